/** OpenAPI pieces shared by the /v2 and the Lamassu parts of the document. */

/** The repeatable `filter` query parameter, described by the surface that reads it. */
export const filterQueryParam = (description: string) => ({
  name: 'filter',
  in: 'query',
  style: 'form',
  explode: true,
  schema: { type: 'array', items: { type: 'string' } },
  description,
});
