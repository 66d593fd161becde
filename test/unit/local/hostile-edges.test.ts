/** The pure checks behind the hostile-edge fixes: Host names, serial signs, bookmark signatures, loopback URLs. */
import fc from 'fast-check';
import { isLoopback } from '../../../cli/main';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { certificateSerialProblem } from '../../../functions/domain/certificate';
import { InvalidBookmarkError } from '../../../functions/domain/errors';
import { hostGuard, isClientAbort, mediaTypeRefusal } from '../../../local/guards';

describe('hostGuard', () => {
  const check = hostGuard(['devices.internal.test', 'pinned.test:8443']);
  it.each([
    '127.0.0.1:3000',
    'LOCALHOST:3000',
    'localhost',
    '[::1]:3000',
    'devices.internal.test:3000',
    'pinned.test:8443',
  ])('serves %s', (host) => {
    expect(check(host, 3000)).toBeUndefined();
  });
  it.each([
    undefined,
    '',
    'attacker.example:3000',
    '127.0.0.1:3001',
    'localhost.attacker.example',
    '127.0.0.1@attacker.example',
    'pinned.test:3000',
    '[::2]:3000',
    'localhost:3000:1',
  ])('refuses %s with 421 in the error shape', (host) => {
    expect(check(host, 3000)).toEqual({
      status: 421,
      body: { err: expect.stringContaining('is not served here'), code: 'MISDIRECTED_REQUEST' },
    });
  });
});

it('a local POST route takes application/json only; client aborts are told from crashes', () => {
  const req = (method: string, type?: string) =>
    ({ method, headers: type ? { 'content-type': type } : {} }) as Parameters<typeof mediaTypeRefusal>[0];
  expect(mediaTypeRefusal(req('POST', 'application/json; charset=utf-8'))).toBeUndefined();
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined])
    expect(mediaTypeRefusal(req('POST', type))?.status).toBe(415);
  expect(isClientAbort(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))).toBe(true);
  expect(isClientAbort(new TypeError('boom'))).toBe(false);
});

it('a negative serial is refused, a positive one of at most 20 octets is not', () => {
  expect(certificateSerialProblem('-6DCC')).toMatch(/negative/);
  expect(certificateSerialProblem('6DCC')).toBeUndefined();
  expect(certificateSerialProblem('00' + 'FF'.repeat(20))).toBeUndefined();
  expect(certificateSerialProblem('01' + 'FF'.repeat(20))).toMatch(/longer than 20 octets/);
});

it('a bookmark decodes only with the exact signature it was issued with', () => {
  const codec = bookmarkCodec('k'.repeat(64));
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.constantFrom('=', '==', '!!', ' ', '\n', '.'), (position, junk) => {
      const bookmark = codec.encode({ q: 1 }, position);
      expect(codec.decode({ q: 1 }, bookmark)).toBe(position);
      expect(() => codec.decode({ q: 1 }, `${bookmark}${junk}`)).toThrow(InvalidBookmarkError);
    }),
    { numRuns: 50 },
  );
});

it('only loopback URLs may carry a token over plain http', () => {
  for (const url of ['http://127.0.0.1:3000', 'http://127.5.6.7', 'http://localhost:3000', 'http://[::1]:3000'])
    expect([url, isLoopback(new URL(url))]).toEqual([url, true]);
  for (const url of [
    'http://10.0.0.5',
    'http://api.localhost',
    'http://localhost.example.com',
    'http://127.0.0.1.nip.io',
    'http://0.0.0.0',
    'http://[::2]',
  ])
    expect([url, isLoopback(new URL(url))]).toEqual([url, false]);
});
