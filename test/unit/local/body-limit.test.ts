/**
 * The local server refuses a body over the contract's limit before buffering it whole: on its
 * Content-Length alone, or as soon as the bytes streamed pass the limit (the rest is never read).
 */
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { MAX_BODY_BYTES } from '../../../functions/http/http';
import { eventBody, readBody } from '../../../local/gateway';
import { startLocalServer } from '../../../local/server';

/** A request body that never ends: chunks of `size` bytes, counting how many were pulled. */
function endless(size: number, headers: Record<string, string> = {}) {
  const source = { pulled: 0 };
  const stream = new Readable({
    highWaterMark: size,
    read() {
      source.pulled++;
      this.push(Buffer.alloc(size, 0x61));
    },
  });
  return { req: Object.assign(stream, { headers }) as unknown as IncomingMessage, source };
}

it('stops reading a streamed body once it passes the limit', async () => {
  const { req, source } = endless(1000);
  await expect(readBody(req, 10_000)).rejects.toThrow(/too large/);
  // 11 chunks make the first body over 10,000 bytes; a few more may sit in the stream's buffer.
  expect(source.pulled).toBeGreaterThanOrEqual(11);
  expect(source.pulled).toBeLessThanOrEqual(14);
});

it('refuses on the Content-Length alone, reading nothing', async () => {
  const { req, source } = endless(1000, { 'content-length': String(10_001) });
  await expect(readBody(req, 10_000)).rejects.toThrow(/too large/);
  expect(source.pulled).toBe(0);
});

it('reads a body within the limit whole', async () => {
  const req = Object.assign(Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]), { headers: {} });
  expect((await readBody(req as unknown as IncomingMessage, 10))?.toString()).toBe('{"a":1}');
});

it('answers 413 before the client has sent the body, and never calls the handler', async () => {
  let handled = 0;
  const server = await startLocalServer({
    routes: [{ method: 'POST', path: '/v2/upload', handler: 'upload', scope: 'devices:write', table: 'none' }],
    loadHandler: async () => async () => ({ statusCode: 200, body: String(++handled) }),
  });
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(server.port, '127.0.0.1', () => {
        // Only the headers and a first piece of a body of 10 MB: the rest is never sent.
        socket.write(
          `POST /v2/upload HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${10 * 1024 * 1024}\r\n\r\n{"id":"`,
        );
      });
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('PAYLOAD_TOO_LARGE')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain(`the limit is ${MAX_BODY_BYTES}`);
    expect(handled).toBe(0);
  } finally {
    await server.close();
  }
});

it('hands a JSON or text body to the function as text and anything else base64-encoded, as API Gateway does', () => {
  const raw = Buffer.from('{"é":1}');
  expect(eventBody(raw, 'application/json; charset=utf-8')).toEqual({ body: '{"é":1}', isBase64Encoded: false });
  expect(eventBody(raw, 'text/plain')).toEqual({ body: '{"é":1}', isBase64Encoded: false });
  expect(eventBody(raw, 'application/merge-patch+json')).toEqual({
    body: raw.toString('base64'),
    isBase64Encoded: true,
  });
  expect(eventBody(raw, undefined).isBase64Encoded).toBe(true);
  expect(eventBody(undefined, 'application/json')).toEqual({ isBase64Encoded: false });
});
