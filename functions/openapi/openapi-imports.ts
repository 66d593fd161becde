/** The server-side import's operations (docs/api.md, Server-side import). */
import { MAX_PAGE_SIZE } from '../domain/query';

const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const error = (description: string) => ({ description, ...json({ $ref: '#/components/schemas/Error' }) });

const OUTCOMES = ['created', 'unchanged', 'updated', 'conflict', 'invalid', 'failed'];

const importView = {
  type: 'object',
  required: ['id', 'format', 'update', 'status', 'created_at', 'pieces_done', 'counts', 'lines', 'report', 'next'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    format: { enum: ['csv', 'ndjson'] },
    update: { type: 'boolean' },
    status: { enum: ['AWAITING_UPLOAD', 'RUNNING', 'DONE', 'FAILED'] },
    created_at: { type: 'string', format: 'date-time' },
    started_at: { type: 'string', format: 'date-time' },
    finished_at: { type: 'string', format: 'date-time' },
    pieces: { type: 'integer', description: 'Pieces the file was cut into (once planned); one worker task each.' },
    pieces_done: { type: 'integer' },
    counts: {
      type: 'object',
      description: 'Rows per outcome over the pieces done (the command line import’s outcomes).',
      properties: Object.fromEntries(OUTCOMES.map((o) => [o, { type: 'integer' }])),
    },
    lines: { type: 'integer', description: 'Rows with an outcome so far.' },
    error: {
      type: 'object',
      description: 'Why a FAILED import failed as a whole (INVALID_IMPORT_FILE, IMPORT_FILE_MISSING).',
      properties: { code: { type: 'string' }, err: { type: 'string' } },
    },
    report: {
      type: 'array',
      description: 'Rows that did not go in, in line order: the lines of the command line’s --report.',
      items: {
        type: 'object',
        required: ['line', 'outcome'],
        properties: {
          line: { type: 'integer' },
          id: { type: 'string' },
          outcome: { enum: OUTCOMES },
          status: { type: 'integer' },
          code: { type: 'string' },
          err: { type: 'string' },
          details: { type: 'array', items: { type: 'object' } },
          differences: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    next: { type: 'string', description: 'Bookmark of the report’s next page; "" on the last.' },
  },
};

const importId = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

export const IMPORT_OPERATIONS: Record<string, Record<string, unknown>> = {
  'POST /v2/imports': {
    summary: 'Start a server-side import of a CSV or NDJSON file',
    description:
      'With a JSON body {format, update?}: 201 with the import (AWAITING_UPLOAD) and `upload` ' +
      '{url, method: PUT, expires_at}: PUT the file there (deployed: a presigned URL of the ' +
      'stack’s bucket, any size up to 5 GB), then POST /v2/imports/{id}/start. With the file ' +
      'itself as the body (text/csv or application/x-ndjson, at most 256 KiB; ?update=true): ' +
      '202 with the import already RUNNING. Rows are read as the command line’s import reads ' +
      'them (a CSV certificate cell holds the PEM itself: a file path cannot be read server-side).',
    parameters: [{ name: 'update', in: 'query', schema: { type: 'boolean' } }],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['format'],
            additionalProperties: false,
            properties: { format: { enum: ['csv', 'ndjson'] }, update: { type: 'boolean' } },
          },
        },
        'text/csv': { schema: { type: 'string' } },
        'application/x-ndjson': { schema: { type: 'string' } },
      },
    },
    responses: {
      '201': {
        description: 'The import, awaiting its file, and where to upload it',
        ...json({
          type: 'object',
          properties: {
            import: importView,
            upload: {
              type: 'object',
              properties: {
                url: { type: 'string' },
                method: { const: 'PUT' },
                expires_at: { type: 'string', format: 'date-time' },
              },
            },
          },
        }),
      },
      '202': { description: 'The import, started', ...json(importView) },
      '400': error('Invalid body'),
      '413': error('Body over 256 KiB: use the upload URL'),
      '415': error('Not application/json, text/csv or application/x-ndjson'),
    },
  },
  'GET /v2/imports/{id}': {
    summary: 'Where an import stands, and a page of its report',
    parameters: [
      importId,
      { name: 'page_size', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 25 } },
      { name: 'bookmark', in: 'query', schema: { type: 'string' } },
    ],
    responses: { '200': { description: 'The import', ...json(importView) }, '404': error('Unknown import') },
  },
  'POST /v2/imports/{id}/start': {
    summary: 'Start an uploaded import, or resume a running one',
    description:
      'AWAITING_UPLOAD with its file uploaded: RUNNING. RUNNING: planned again and the pieces not ' +
      'done are sent to the workers again (a resume after a crash; rows are never applied twice). ' +
      'No file yet, or DONE/FAILED: 409.',
    parameters: [importId],
    responses: {
      '202': { description: 'The import', ...json(importView) },
      '404': error('Unknown import'),
      '409': error('No file uploaded yet, or the import is over'),
    },
  },
};
