/** The server-side import's request shapes (docs/api.md, Server-side import). */
import { boolean, enum as zEnum, optional, strictObject } from 'zod/mini';
import { IMPORT_FORMATS } from './import-rows';

/** `POST /v2/imports` with a JSON body: the file comes later, through the upload URL of the answer. */
export const createImportSchema = strictObject({
  format: zEnum(IMPORT_FORMATS),
  /** Patch devices that exist with other content (the command line's `--update`). */
  update: optional(boolean()),
});

/** The file's media types when it is the request body itself. */
export const IMPORT_MEDIA_TYPES = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson' } as const;
