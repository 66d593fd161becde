/**
 * Opaque, integrity-checked bookmarks. A bookmark names the position to resume after and the query
 * it belongs to; a tampered, truncated or foreign bookmark is rejected (400), never a 500.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidBookmarkError } from '../../domain/errors';

export interface BookmarkCodec {
  encode(query: unknown, position: string): string;
  /** Returns the position, or throws InvalidBookmarkError. */
  decode(query: unknown, bookmark: string): string;
}

export function bookmarkCodec(secret: string): BookmarkCodec {
  const fingerprint = (query: unknown) => createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);
  const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest().subarray(0, 16);
  return {
    encode(query, position) {
      const payload = Buffer.from(JSON.stringify({ q: fingerprint(query), p: position })).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    decode(query, bookmark) {
      const [payload, signature, ...rest] = bookmark.split('.');
      if (!payload || !signature || rest.length > 0) throw new InvalidBookmarkError();
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidBookmarkError();
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch (cause) {
        throw new InvalidBookmarkError({ cause });
      }
      const { q, p } = (parsed ?? {}) as { q?: unknown; p?: unknown };
      if (q !== fingerprint(query) || typeof p !== 'string') throw new InvalidBookmarkError();
      return p;
    },
  };
}
