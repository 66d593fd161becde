/**
 * Opaque, integrity-checked bookmarks. A bookmark names the position to resume after and the query
 * it belongs to; a tampered, truncated or foreign bookmark is rejected (400), never a 500.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidBookmarkError } from '../../domain/errors';

/** Whether a decoded position has the caller's format (the caller knows what its positions look like). */
export type PositionValidator = (position: string) => boolean;

export interface BookmarkCodec {
  encode(query: unknown, position: string): string;
  /**
   * Returns the position, or throws InvalidBookmarkError: tampered, foreign, oversized, or (with
   * `validate`) a position the caller would not have written. Every caller should pass `validate`:
   * the signature proves who wrote a bookmark, not that its position is safe to use as a key.
   */
  decode(query: unknown, bookmark: string, validate?: PositionValidator): string;
}

/** Longer bookmarks are refused before any work: positions are keys (at most a few hundred bytes). */
export const MAX_BOOKMARK_LENGTH = 4096;

/**
 * `secret` is the HMAC key, or a function returning it (read once per cold start from the stack's
 * secret, see functions/runtime/bookmark-secret.ts).
 */
export function bookmarkCodec(secret: string | (() => string)): BookmarkCodec {
  const key = typeof secret === 'string' ? () => secret : secret;
  const fingerprint = (query: unknown) =>
    createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);
  const mac = (payload: string) => createHmac('sha256', key()).update(payload).digest().subarray(0, 16);
  return {
    encode(query, position) {
      const payload = Buffer.from(JSON.stringify({ q: fingerprint(query), p: position })).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    decode(query, bookmark, validate) {
      if (bookmark.length > MAX_BOOKMARK_LENGTH) throw new InvalidBookmarkError();
      const [payload, signature, ...rest] = bookmark.split('.');
      if (!payload || !signature || rest.length > 0) throw new InvalidBookmarkError();
      const given = Buffer.from(signature, 'base64url');
      // Node's decoder skips what is not base64url (`=`, `!`) and ignores spare low bits: only the
      // canonical text of the decoded bytes is the signature that was issued.
      if (given.toString('base64url') !== signature) throw new InvalidBookmarkError();
      const expected = mac(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidBookmarkError();
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch (cause) {
        throw new InvalidBookmarkError({ cause });
      }
      const { q, p } = (parsed ?? {}) as { q?: unknown; p?: unknown };
      if (q !== fingerprint(query) || typeof p !== 'string' || (validate && !validate(p)))
        throw new InvalidBookmarkError();
      return p;
    },
  };
}
