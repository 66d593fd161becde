/**
 * The HMAC key of the bookmarks (docs/api.md, Limits and edges): never derived from a public name. In AWS the stack
 * provisions a Secrets Manager secret (BOOKMARK_SECRET_ARN), read once per cold start with Powertools
 * Parameters; the local service passes its own random key as BOOKMARK_SECRET.
 */
import { bookmarkSecretConfig, ConfigError } from './config';

let key: string | undefined;

/** Loads the key once per cold start (the HTTP middleware calls it before every request; only the first one reads). */
export async function loadBookmarkSecret(env: Record<string, string | undefined> = process.env): Promise<void> {
  if (key !== undefined) return;
  const config = bookmarkSecretConfig(env);
  if (config.bookmarkSecret !== undefined) {
    key = config.bookmarkSecret;
    return;
  }
  if (config.bookmarkSecretArn === undefined) return;
  // Loaded here, not at module load: the Secrets Manager client is required only where a key is read.
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  // maxAge: the key is kept for the life of the execution environment.
  const value = await getSecret(config.bookmarkSecretArn, { maxAge: Number.MAX_SAFE_INTEGER });
  if (typeof value !== 'string' || value.length < 32)
    throw new ConfigError('BOOKMARK_SECRET_ARN', 'the secret must hold a string of at least 32 characters');
  key = value;
}

/** The key, once loaded; a function that uses bookmarks without BOOKMARK_SECRET(_ARN) fails naming it. */
export function bookmarkSecret(): string {
  if (key === undefined)
    throw new ConfigError(
      'BOOKMARK_SECRET_ARN',
      'is required to sign bookmarks (BOOKMARK_SECRET locally), and must be loaded first',
    );
  return key;
}

/** Test hook: forget the loaded key. */
export function resetBookmarkSecret(): void {
  key = undefined;
}
