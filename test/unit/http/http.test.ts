import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import {
  ContentionError,
  DeviceNotFoundError,
  InvalidBookmarkError,
  PreconditionFailedError,
  ValidationError,
} from '../../../functions/domain/errors';
import { errorResponse } from '../../../functions/http/http-errors';
import { httpHandler, ifMatchOf, MAX_BODY_BYTES, toRequest } from '../../../functions/http/http';
import { parseListQuery } from '../../../functions/http/list-query';

function event(overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /v2/devices',
    rawPath: '/v2/devices',
    rawQueryString: '',
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    requestContext: {
      http: { method: 'POST', path: '/v2/devices' },
      requestId: 'r-1',
    } as APIGatewayProxyEventV2['requestContext'],
    isBase64Encoded: false,
    ...overrides,
  };
}

describe('toRequest', () => {
  it('parses JSON bodies (plain or base64), keeps repeated query parameters and lower-cases headers', () => {
    const req = toRequest(
      event({
        body: Buffer.from('{"a":1}').toString('base64'),
        isBase64Encoded: true,
        rawQueryString: 'filter=a[eq]1&filter=b[in]x,y',
      }),
      ['application/json'],
    );
    expect(req.body).toEqual({ a: 1 });
    expect(req.mediaType).toBe('application/json');
    expect(req.query.getAll('filter')).toEqual(['a[eq]1', 'b[in]x,y']);
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('measures a text body in UTF-8 bytes and a base64 one decoded, both against the limit', () => {
    // 100,000 characters of two bytes each: under the limit in characters, over it in bytes.
    const wide = `{"a":"${'é'.repeat(MAX_BODY_BYTES / 2)}"}`;
    expect(errorResponse(capture(() => toRequest(event({ body: wide }), ['application/json']))).statusCode).toBe(413);
    const fits = `{"a":"${'x'.repeat(MAX_BODY_BYTES - 100)}"}`;
    const b64 = Buffer.from(fits).toString('base64'); // longer than the limit as text, within it decoded
    expect(b64.length).toBeGreaterThan(MAX_BODY_BYTES);
    expect(toRequest(event({ body: b64, isBase64Encoded: true }), ['application/json']).body).toEqual(JSON.parse(fits));
    const over = Buffer.from(`{"a":"${'x'.repeat(MAX_BODY_BYTES)}"}`).toString('base64');
    expect(
      errorResponse(capture(() => toRequest(event({ body: over, isBase64Encoded: true }), ['application/json'])))
        .statusCode,
    ).toBe(413);
  });

  it('answers 413 over 256 KiB, 415 on a wrong or missing type, 400 on malformed or missing JSON', () => {
    const big = `{"a":"${'x'.repeat(MAX_BODY_BYTES)}"}`;
    expect(errorResponse(capture(() => toRequest(event({ body: big }), ['application/json']))).statusCode).toBe(413);
    expect(
      errorResponse(
        capture(() =>
          toRequest(event({ body: '{}', headers: { 'content-type': 'text/plain' } }), ['application/json']),
        ),
      ).statusCode,
    ).toBe(415);
    expect(
      errorResponse(capture(() => toRequest(event({ body: '{}', headers: {} }), ['application/json']))).statusCode,
    ).toBe(415);
    expect(errorResponse(capture(() => toRequest(event({ body: '{"a":' }), ['application/json']))).body).toEqual({
      err: 'request body is not valid JSON',
      code: 'MALFORMED_REQUEST',
    });
    expect(errorResponse(capture(() => toRequest(event({ body: undefined }), ['application/json']))).statusCode).toBe(
      400,
    );
  });
});

function capture(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('deep bodies', () => {
  it('refuses a body nested past the limit with 400 naming the member, before JSON.parse sees it', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const deep = `{"metadata":${'{"a":['.repeat(5000)}1${']}'.repeat(5000)}}`;
      const answer = errorResponse(capture(() => toRequest(event({ body: deep }), ['application/json'])));
      expect(answer.statusCode).toBe(400);
      expect(answer.body).toMatchObject({
        code: 'VALIDATION_ERROR',
        details: [{ field: 'metadata', problem: expect.stringMatching(/nests deeper than 64 levels/) }],
      });
      expect(parse).not.toHaveBeenCalledWith(deep);
      // Within the limit the body is parsed as before.
      expect(toRequest(event({ body: '{"metadata":{"a":[[1]]}}' }), ['application/json']).body).toEqual({
        metadata: { a: [[1]] },
      });
    } finally {
      parse.mockRestore();
    }
  });
});

describe('If-Match', () => {
  const req = (value?: string) =>
    ({ headers: value === undefined ? {} : { 'if-match': value } }) as Parameters<typeof ifMatchOf>[0];
  it.each([
    ['"3"', 3],
    ['3', 3],
    ['W/"12"', 12],
    ['*', undefined],
    [undefined, undefined],
  ])('%s → %s', (value, expected) => expect(ifMatchOf(req(value))).toBe(expected));
  it('rejects a malformed ETag with 400', () => expect(() => ifMatchOf(req('"abc"'))).toThrow(ValidationError));
});

describe('error table', () => {
  it('maps domain errors to their status with the contract shape', () => {
    expect(errorResponse(new DeviceNotFoundError('d'))).toEqual({
      statusCode: 404,
      body: { err: 'device d not found', code: 'DEVICE_NOT_FOUND' },
    });
    expect(errorResponse(new PreconditionFailedError(1, 2)).statusCode).toBe(412);
    expect(errorResponse(new InvalidBookmarkError()).statusCode).toBe(400);
    expect(errorResponse(new ValidationError('bad', [{ field: 'id', problem: 'x' }])).body).toEqual({
      err: 'bad',
      code: 'VALIDATION_ERROR',
      details: [{ field: 'id', problem: 'x' }],
    });
  });

  it('never leaks internals of unexpected errors', async () => {
    const log = jest.fn();
    const handler = httpHandler({ log }, async () => {
      throw new Error('ResourceNotFoundException: arn:aws:dynamodb:secret-table at stack line 42');
    });
    const res = await handler(event({ body: undefined }), {} as Context);
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body!)).toEqual({ err: 'internal server error', code: 'INTERNAL_ERROR' });
    expect(res.body).not.toContain('secret-table');
    expect(log).toHaveBeenCalledTimes(1);
  });

  it('answers contention that outlasted the retries with 503 and its Retry-After', async () => {
    const handler = httpHandler({ log: () => undefined }, async () => {
      throw new ContentionError('device d is being changed concurrently; try again', { retryAfterSeconds: 2 });
    });
    const res = await handler(event({ body: undefined }), {} as Context);
    expect(res.statusCode).toBe(503);
    expect(res.headers).toEqual(expect.objectContaining({ 'retry-after': '2' }));
    expect(JSON.parse(res.body!)).toEqual({ err: 'service busy, try again', code: 'SERVICE_BUSY' });
  });

  it('sends ETag and JSON on success', async () => {
    const handler = httpHandler({}, async () => ({ statusCode: 200, body: { ok: true }, version: 4 }));
    const res = await handler(event({ body: undefined }), {} as Context);
    expect(res).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', etag: '"4"' },
      body: '{"ok":true}',
    });
  });
});

describe('list query parameters', () => {
  const parse = (qs: string) => parseListQuery(new URLSearchParams(qs));
  it('applies defaults', () =>
    expect(parse('')).toEqual({
      filters: [],
      sortBy: 'creation_timestamp',
      sortMode: 'asc',
      pageSize: 25,
      bookmark: undefined,
    }));
  it('reads sort, page size and filters', () => {
    const q = parse('sort_by=id&sort_mode=desc&page_size=1000&filter=status[eq]ACTIVE');
    expect(q).toMatchObject({
      sortBy: 'id',
      sortMode: 'desc',
      pageSize: 1000,
      filters: [{ kind: 'status', op: 'eq', values: ['ACTIVE'] }],
    });
  });
  it.each([
    'page_size=0',
    'page_size=1001',
    'page_size=ten',
    'page_size=2.5',
    'sort_by=name',
    'sort_mode=up',
    'filter=bogus',
    'filter=status[eq]NOPE',
  ])('rejects %s', (qs) => {
    expect(() => parse(qs)).toThrow(ValidationError);
  });
  it('names every offending parameter', () => {
    expect(capture(() => parse('page_size=0&sort_by=x&filter=a[eq]b'))).toMatchObject({
      details: [{ field: 'filter[0]' }, { field: 'page_size' }, { field: 'sort_by' }],
    });
  });
});
