/**
 * The CA revocation call against a real HTTP server on 127.0.0.1 (port 0) standing in for Lamassu's
 * CA: the exact request, the answer translation of the adapter, and the batch use case's retries and
 * batch item failures (with a fake timer, so no real sleeps).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CA_BACKOFF,
  type CaRevocationMessage,
  caRevocationService,
  revocationRequestOf,
} from '../../../functions/app/ca-revocation';
import { REVOCATION_REQUEST_TYPE } from '../../../functions/domain/slots';
import { LAMASSU_EVENT_SOURCE } from '../../../functions/lamassu/events';
import { CaRequestError } from '../../../functions/app/ports';
import type { RetryTimer } from '../../../functions/app/retry';
import { lamassuCa } from '../../../functions/adapters/lamassu-ca/ca-client';
import { handler } from '../../../functions/handlers/events/ca-revocation';
import { createCaRevocation, setCaRevocation } from '../../../functions/composition/ca-composition';
import { isCaApiUrl, loadCaRevocationConfig } from '../../../functions/runtime/config';

interface Received {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Answers come from `script` in order (the last one repeats); each is a status, a body and headers, or 'hang'. */
let script: Array<{ status: number; body?: unknown; headers?: Record<string, string> } | 'hang'> = [];
let received: Received[] = [];
/** Answers by request path, ahead of `script` (for concurrent requests, whose order is not fixed). */
let byPath: Record<string, { status: number; body?: unknown; headers?: Record<string, string> }> = {};
let server: Server;
let baseUrl: string;
let elsewhere: Server;
let elsewhereUrl: string;
let elsewhereHits: Received[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const answer = byPath[req.url ?? ''] ?? (script.length > 1 ? script.shift()! : script[0]!);
      if (answer === 'hang') return; // never answers: the client's timeout must fire
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Another origin a redirect may point at: it answers 200 to anything and records what it got.
  elsewhere = createServer((req, res) => {
    elsewhereHits.push({ method: req.method, url: req.url, headers: req.headers, body: '' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  elsewhere.closeAllConnections();
  await Promise.all([
    new Promise((resolve) => server.close(resolve)),
    new Promise((resolve) => elsewhere.close(resolve)),
  ]);
});

beforeEach(() => {
  script = [{ status: 200, body: { serial_number: 'x', status: 'REVOKED' } }];
  received = [];
  byPath = {};
  elsewhereHits = [];
});

function fakeTimer(): RetryTimer & { sleeps: number[] } {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    random: () => 0.5,
  };
}

const SERIAL = '1a-2b-3c-4d';

/** The SQS body of the rule's target: the EventBridge event whose detail is the publisher's CloudEvent. */
function message(
  messageId: string,
  data: Record<string, unknown> = {
    serial_number: SERIAL,
    status: 'REVOKED',
    revocation_reason: 'CessationOfOperation',
    device_id: 'dev-1',
  },
  type = REVOCATION_REQUEST_TYPE,
): CaRevocationMessage {
  const detail = {
    specversion: '1.0',
    id: `${messageId}/revocation`,
    source: LAMASSU_EVENT_SOURCE,
    type,
    subject: `certificate/${String(data.serial_number)}`,
    time: '2026-01-01T00:00:00.000Z',
    datacontenttype: 'application/json',
    data,
  };
  return {
    messageId,
    body: JSON.stringify({
      version: '0',
      id: `eb-${messageId}`,
      'detail-type': type,
      source: LAMASSU_EVENT_SOURCE,
      detail,
    }),
  };
}

describe('Lamassu CA adapter', () => {
  it('PUTs Lamassu UpdateCertificateStatusBody to /api/ca/v1/certificates/{serial}/status', async () => {
    const ca = lamassuCa({ baseUrl: `${baseUrl}/`, headers: { authorization: 'Bearer t0k3n' } });
    await expect(
      ca.revoke({ serialNumber: SERIAL, revocationReason: 'CessationOfOperation', deviceId: 'dev-1' }),
    ).resolves.toBe('revoked');
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe('PUT');
    expect(request!.url).toBe(`/api/ca/v1/certificates/${SERIAL}/status`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.accept).toBe('application/json');
    expect(request!.headers.authorization).toBe('Bearer t0k3n');
    expect(JSON.parse(request!.body)).toEqual({ status: 'REVOKED', revocation_reason: 'CessationOfOperation' });
  });

  it('encodes the serial in the path', async () => {
    await lamassuCa({ baseUrl }).revoke({ serialNumber: 'a/b c', revocationReason: 'Unspecified' });
    expect(received[0]!.url).toBe('/api/ca/v1/certificates/a%2Fb%20c/status');
  });

  it.each([
    [404, { err: 'certificate not found' }, 'unknown-serial'],
    [409, { err: 'conflict' }, 'already-revoked'],
    [422, { err: 'already revoked' }, 'already-revoked'],
    [400, { err: 'new status transition not allowed for certificate' }, 'already-revoked'],
    [201, {}, 'revoked'],
  ])('translates %i to %s', async (status, body, outcome) => {
    script = [{ status, body }];
    await expect(
      lamassuCa({ baseUrl }).revoke({ serialNumber: SERIAL, revocationReason: 'Unspecified' }),
    ).resolves.toBe(outcome);
  });

  it.each([
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [401, false],
    [403, false],
  ])('answer %i is a CaRequestError, retryable: %s', async (status, retryable) => {
    script = [{ status, body: { err: 'nope' } }];
    const error = await lamassuCa({ baseUrl })
      .revoke({ serialNumber: SERIAL, revocationReason: 'Unspecified' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaRequestError);
    expect(error).toMatchObject({ status, retryable });
    expect((error as Error).message).toContain('nope');
  });

  it('a CA that does not answer in time is a retryable failure', async () => {
    script = ['hang'];
    const error = await lamassuCa({ baseUrl, timeoutMs: 150 })
      .revoke({ serialNumber: SERIAL, revocationReason: 'Unspecified' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaRequestError);
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect((error as Error).message).toContain('no answer within 150 ms');
  });

  it('a refused connection is a retryable failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await lamassuCa({ baseUrl: `http://127.0.0.1:${port}` })
      .revoke({ serialNumber: SERIAL, revocationReason: 'Unspecified' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'CaRequestError', retryable: true });
  });
});

describe('Lamassu CA adapter: redirects and credentials in errors', () => {
  const TOKEN = 'Bearer s3cr3t-t0k3n-value';

  it.each([301, 302, 303, 307, 308])(
    'a %i to another origin is refused: not followed, not counted as revoked, not retried in the invocation',
    async (status) => {
      script = [{ status, headers: { location: `${elsewhereUrl}/api/ca/v1/certificates/${SERIAL}/status` } }];
      const error = await lamassuCa({ baseUrl, headers: { authorization: TOKEN } })
        .revoke({ serialNumber: SERIAL, revocationReason: 'Unspecified' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CaRequestError);
      expect(error).toMatchObject({ status, retryable: false });
      expect((error as Error).message).toBe(
        `CA answered ${status} to ${elsewhereUrl}: redirects are refused (set caApiUrl to the final URL)`,
      );
      expect(received).toHaveLength(1);
      expect(elsewhereHits).toHaveLength(0);
    },
  );

  it('a redirect fails the message (delivered again by the queue, then dead-lettered), with one CA call', async () => {
    script = [{ status: 307, headers: { location: `${elsewhereUrl}/x` } }];
    const timer = fakeTimer();
    const report = await caRevocationService({ ca: lamassuCa({ baseUrl }), timer }).handleBatch([message('m1')]);
    expect(report).toEqual({
      failed: ['m1'],
      counts: { revoked: 0, 'already-revoked': 0, 'unknown-serial': 0, ignored: 0, failed: 1 },
    });
    expect(received).toHaveLength(1);
    expect(timer.sleeps).toEqual([]);
    expect(elsewhereHits).toHaveLength(0);
  });

  it(
    'a CA error body echoing the Authorization header is logged ' +
      'without it (nor its token, nor anything shaped like a credential)',
    async () => {
      const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYSJ9.c2lnbmF0dXJl';
      script = [
        {
          status: 401,
          body: {
            err: 'unauthorized',
            request: { headers: { Authorization: TOKEN } },
            hint: 's3cr3t-t0k3n-value is not valid',
            other: `Basic dXNlcjpwYXNz, token=${jwt}`,
          },
        },
      ];
      const logged: string[] = [];
      const service = caRevocationService({
        ca: lamassuCa({ baseUrl, headers: { authorization: TOKEN } }),
        timer: fakeTimer(),
        log: (_level, message, detail) => logged.push(`${message} ${JSON.stringify(detail)}`),
      });
      const report = await service.handleBatch([message('m1')]);
      expect(report.failed).toEqual(['m1']);
      expect(received[0]!.headers.authorization).toBe(TOKEN);
      const line = logged.join('\n');
      expect(line).toContain('CA answered 401');
      expect(line).toContain('[REDACTED]');
      for (const secret of ['s3cr3t', 'dXNlcjpwYXNz', jwt, 'eyJ']) expect(line).not.toContain(secret);
    },
  );

  it('a credential cut by the 300-character limit is redacted before the cut', async () => {
    script = [{ status: 500, body: { err: `${'x'.repeat(280)} ${TOKEN}` } }];
    const error = (await lamassuCa({ baseUrl, headers: { authorization: TOKEN } })
      .revoke({ serialNumber: SERIAL, revocationReason: 'Unspecified' })
      .catch((e: unknown) => e)) as Error;
    expect(error.message).not.toMatch(/s3c/);
  });
});

describe('CA revocation use case (batch of SQS messages)', () => {
  const service = (timer = fakeTimer()) => caRevocationService({ ca: lamassuCa({ baseUrl }), timer });

  it('a 503 then 200 is retried within the invocation and succeeds', async () => {
    script = [{ status: 503, body: { err: 'busy' } }, { status: 200 }];
    const timer = fakeTimer();
    const report = await service(timer).handleBatch([message('m1')]);
    expect(report).toEqual({
      failed: [],
      counts: { revoked: 1, 'already-revoked': 0, 'unknown-serial': 0, ignored: 0, failed: 0 },
    });
    expect(received.map((r) => r.url)).toEqual([
      `/api/ca/v1/certificates/${SERIAL}/status`,
      `/api/ca/v1/certificates/${SERIAL}/status`,
    ]);
    expect(JSON.parse(received[1]!.body)).toEqual({ status: 'REVOKED', revocation_reason: 'CessationOfOperation' });
    expect(timer.sleeps).toEqual([CA_BACKOFF.baseMs * 0.5]);
  });

  it('a 404 (unknown serial) is acknowledged and counted, not retried', async () => {
    script = [{ status: 404, body: { err: 'certificate not found' } }];
    const timer = fakeTimer();
    const report = await service(timer).handleBatch([message('m1')]);
    expect(report.failed).toEqual([]);
    expect(report.counts['unknown-serial']).toBe(1);
    expect(received).toHaveLength(1);
    expect(timer.sleeps).toEqual([]);
  });

  it(
    'a persistent 500 is retried until the budget is spent, then ' +
      'becomes a batch item failure; the other messages are not',
    async () => {
      const timer = fakeTimer();
      const ca = lamassuCa({ baseUrl });
      const failing = caRevocationService({
        ca: {
          revoke: (request) =>
            request.serialNumber === SERIAL ? ca.revoke(request) : Promise.resolve('revoked' as const),
        },
        timer,
      });
      script = [{ status: 500, body: { err: 'database down' } }];
      const report = await failing.handleBatch([
        message('m1'),
        message('m2', { serial_number: 'ff-ee', status: 'REVOKED', revocation_reason: 'Unspecified' }),
      ]);
      expect(report.failed).toEqual(['m1']);
      expect(report.counts).toMatchObject({ revoked: 1, failed: 1 });
      expect(received.length).toBe(timer.sleeps.length + 1);
      expect(received.length).toBeGreaterThan(2);
      expect(timer.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(CA_BACKOFF.budgetMs);
      expect(timer.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(CA_BACKOFF.budgetMs);
    },
  );

  it('a non-retryable answer (401) fails the message at once', async () => {
    script = [{ status: 401, body: { err: 'unauthorized' } }];
    const timer = fakeTimer();
    const report = await service(timer).handleBatch([message('m1')]);
    expect(report.failed).toEqual(['m1']);
    expect(received).toHaveLength(1);
    expect(timer.sleeps).toEqual([]);
  });

  it(
    'an unreadable message fails (to the dead-letter queue); an ' +
      'event of another type is ignored; neither calls the CA',
    async () => {
      const report = await service().handleBatch([
        { messageId: 'bad-json', body: '{' },
        message('bad-serial', { serial_number: 'not hex!', status: 'REVOKED' }),
        message('other', { serial_number: SERIAL, status: 'REVOKED' }, 'device.create'),
      ]);
      expect(report.failed).toEqual(['bad-json', 'bad-serial']);
      expect(report.counts).toMatchObject({ ignored: 1, failed: 2 });
      expect(received).toHaveLength(0);
    },
  );

  it('reads the request from the event the publisher puts on the bus', () => {
    expect(revocationRequestOf(message('m1').body)).toEqual({
      serialNumber: SERIAL,
      revocationReason: 'CessationOfOperation',
      deviceId: 'dev-1',
    });
    expect(() => revocationRequestOf(message('m1', { serial_number: SERIAL, status: 'ACTIVE' }).body)).toThrow(
      'status must be REVOKED',
    );
  });
});

describe('CA revocation handler (SQS event source)', () => {
  afterEach(() => setCaRevocation(undefined));

  it(
    'calls the CA configured by its composition root and reports ' + 'the failed messages as batch item failures',
    async () => {
      setCaRevocation(createCaRevocation(loadCaRevocationConfig({ CA_API_URL: baseUrl })));
      byPath = { '/api/ca/v1/certificates/ab-cd/status': { status: 400, body: { err: 'bad request' } } };
      const records = [
        message('ok'),
        message('rejected', { serial_number: 'ab-cd', status: 'REVOKED', revocation_reason: 'KeyCompromise' }),
      ].map((m) => ({ messageId: m.messageId, body: m.body }));
      const response = await handler({ Records: records } as never);
      expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'rejected' }] });
      expect(received.map((r) => [r.method, r.url, JSON.parse(r.body)]).sort()).toEqual(
        [
          [
            'PUT',
            `/api/ca/v1/certificates/${SERIAL}/status`,
            { status: 'REVOKED', revocation_reason: 'CessationOfOperation' },
          ],
          ['PUT', '/api/ca/v1/certificates/ab-cd/status', { status: 'REVOKED', revocation_reason: 'KeyCompromise' }],
        ].sort(),
      );
    },
  );
});

describe('CA authorization from a Secrets Manager secret (CA_AUTH_HEADER_SECRET_ARN)', () => {
  const secrets = mockClient(SecretsManagerClient);
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:lamassu-ca-token-AbCdEf';
  beforeEach(() => secrets.reset());
  afterAll(() => secrets.restore());

  it('sends the secret as the Authorization header, reading it once for many requests (cached)', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'Bearer s3cr3t\n' });
    const service = createCaRevocation(loadCaRevocationConfig({ CA_API_URL: baseUrl, CA_AUTH_HEADER_SECRET_ARN: ARN }));
    const report = await service.handleBatch([
      message('m1'),
      message('m2', { serial_number: 'ab-cd', status: 'REVOKED' }),
    ]);
    expect(report.failed).toEqual([]);
    expect(received.map((r) => r.headers.authorization)).toEqual(['Bearer s3cr3t', 'Bearer s3cr3t']);
    await service.handleBatch([message('m3')]);
    expect(received[2]!.headers.authorization).toBe('Bearer s3cr3t');
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: ARN }]);
  });

  it('an empty secret fails the message without calling the CA', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '  ' });
    const other = ARN.replace('AbCdEf', 'XyZxYz');
    const service = createCaRevocation(
      loadCaRevocationConfig({ CA_API_URL: baseUrl, CA_AUTH_HEADER_SECRET_ARN: other }),
    );
    const report = await service.handleBatch([message('m1')]);
    expect(report.failed).toEqual(['m1']);
    expect(received).toHaveLength(0);
  });

  it('refuses an ARN that is not a complete secret ARN', () => {
    expect(() =>
      loadCaRevocationConfig({
        CA_API_URL: baseUrl,
        CA_AUTH_HEADER_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:lamassu-ca-token',
      }),
    ).toThrow('CA_AUTH_HEADER_SECRET_ARN');
  });
});

describe('CA revocation settings', () => {
  it.each([
    ['https://ca.example.com', true],
    ['https://ca.example.com/base', true],
    ['http://127.0.0.1:8085', true],
    ['http://localhost:8085', true],
    ['http://ca.example.com', false],
    ['https://user:pw@ca.example.com', false],
    ['ftp://ca.example.com', false],
    ['not a url', false],
  ])('%s is a CA API URL: %s', (url, ok) => {
    expect(isCaApiUrl(url)).toBe(ok);
  });

  it('loads CA_API_URL and CA_TIMEOUT_MS, refusing bad values', () => {
    expect(loadCaRevocationConfig({ CA_API_URL: 'https://ca.example.com', CA_TIMEOUT_MS: '2500' })).toEqual({
      caApiUrl: 'https://ca.example.com',
      timeoutMs: 2500,
    });
    expect(loadCaRevocationConfig({ CA_API_URL: 'https://ca.example.com' }).timeoutMs).toBe(5000);
    expect(() => loadCaRevocationConfig({})).toThrow('CA_API_URL');
    expect(() => loadCaRevocationConfig({ CA_API_URL: 'http://ca.example.com' })).toThrow('CA_API_URL');
    expect(() => loadCaRevocationConfig({ CA_API_URL: 'https://ca.example.com', CA_TIMEOUT_MS: '0' })).toThrow(
      'CA_TIMEOUT_MS',
    );
  });
});
