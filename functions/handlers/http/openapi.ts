import { httpHandler, ok } from '../../http/http';
import { indexedMetadataKeysOf } from '../../runtime/config';
import { openApiDocument } from '../../openapi/openapi';

/** The document is built once per cold start from the same schemas that validate requests. */
let document: unknown;

export const handler = httpHandler({}, async () =>
  ok((document ??= openApiDocument(indexedMetadataKeysOf(process.env)))),
);
