/** The CLI's HTTP client against a loopback server: retries of 429/503/5xx and lost connections, Retry-After. */
import { createServer, type Server } from 'node:http';
import { ApiUnreachableError } from '../../../cli/errors';
import { apiClient } from '../../../cli/http-client';

let server: Server;
let base: URL;
let script: ((res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => void)[] = [];
const bodies: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      const next = script.shift() ?? ((r) => r.writeHead(500).end());
      next(res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  bodies.length = 0;
});

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (res: import('node:http').ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

describe('CLI HTTP client', () => {
  it('retries 503 (after its Retry-After), 429 and a reset connection, then returns the answer', async () => {
    script = [
      json(503, { code: 'BUSY' }, { 'retry-after': '2' }),
      json(429, { code: 'THROTTLED' }),
      (_res, req) => req.socket.destroy(),
      json(201, { id: 'd1' }),
    ];
    const waits: number[] = [];
    const reasons: string[] = [];
    const client = apiClient({
      api: base,
      concurrency: 2,
      sleep: async (ms) => void waits.push(ms),
      random: () => 0.5,
      onRetry: (r) => reasons.push(r),
    });
    const reply = await client.send('POST', '/v2/devices', { body: { id: 'd1', dms_id: 'm' } });
    client.close();
    expect(reply).toMatchObject({ status: 201, body: { id: 'd1' }, attempts: 4 });
    expect(waits).toEqual([2000, 100, 200]);
    expect(reasons).toEqual(['HTTP 503', 'HTTP 429', 'ECONNRESET']);
    expect(bodies).toEqual(Array(4).fill('{"id":"d1","dms_id":"m"}'));
  });

  it('returns the last answer once the attempts are spent, and never retries a 4xx', async () => {
    script = [json(502, {}), json(504, {}), json(500, { err: 'internal error', code: 'INTERNAL' })];
    const client = apiClient({
      api: base,
      concurrency: 1,
      retry: { attempts: 3, baseMs: 1, capMs: 1 },
      sleep: async () => undefined,
    });
    expect(await client.send('GET', '/v2/stats/devices')).toMatchObject({
      status: 500,
      attempts: 3,
      body: { code: 'INTERNAL' },
    });
    script = [json(400, { code: 'VALIDATION_ERROR' })];
    expect(await client.send('POST', '/v2/devices', { body: {} })).toMatchObject({ status: 400, attempts: 1 });
    client.close();
  });

  it('an API that stays unreachable through the retries is an ApiUnreachableError', async () => {
    script = Array(3).fill((_res: unknown, req: import('node:http').IncomingMessage) => req.socket.destroy());
    const client = apiClient({
      api: base,
      concurrency: 1,
      retry: { attempts: 3, baseMs: 1, capMs: 1 },
      sleep: async () => undefined,
    });
    const failure = client.send('GET', '/v2/stats/devices');
    await expect(failure).rejects.toThrow(ApiUnreachableError);
    await expect(failure).rejects.toThrow(`cannot reach ${base.origin}: socket hang up`);
    expect(bodies).toHaveLength(3);
    client.close();
  });
});
