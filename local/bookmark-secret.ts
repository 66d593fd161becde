/**
 * The local service's bookmark key (docs/api.md, Limits and edges): random, never derived from a name. Kept next to the
 * engine's data folder so bookmarks survive a restart; in memory only with IN_MEMORY=true.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const newKey = () => randomBytes(32).toString('hex');

/** BOOKMARK_SECRET when given; else a random key, kept in `<DATA_DIR>.bookmark-secret` unless IN_MEMORY=true. */
export function localBookmarkSecret(env: Record<string, string | undefined>): string {
  if (env.BOOKMARK_SECRET) return env.BOOKMARK_SECRET;
  if (env.IN_MEMORY === 'true') return newKey();
  const file = `${env.DATA_DIR ?? '.data/dynamodb'}.bookmark-secret`;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const key = newKey();
    try {
      writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
      return key;
    } catch {
      // Another process created it first: use theirs.
      return readFileSync(file, 'utf8').trim();
    }
  }
}
