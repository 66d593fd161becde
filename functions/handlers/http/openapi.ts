import { httpHandler, ok } from '../../shared/http';
import { indexedMetadataKeysOf } from '../../shared/config';
import { openApiDocument } from '../../shared/openapi';

/** The document is built once per cold start from the same schemas that validate requests. */
let document: unknown;

export const handler = httpHandler({}, async () =>
  ok((document ??= openApiDocument(indexedMetadataKeysOf(process.env)))),
);
