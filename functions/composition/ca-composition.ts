/**
 * The composition root of the CA revocation call (queue → Lamassu's CA): the HTTP adapter only, so
 * the function loads neither the table client nor any AWS SDK client.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { type CaRevocationService, caRevocationService } from '../app/ca-revocation';
import type { CaRevocation } from '../app/ports';
import { lamassuCa } from '../adapters/lamassu-ca/ca-client';
import { type CaRevocationConfig, ConfigError, loadCaRevocationConfig } from '../runtime/config';
import { logger } from '../runtime/observability';

/** How long a read Authorization secret is kept (Powertools Parameters cache): a rotation applies within it. */
const CA_AUTH_SECRET_MAX_AGE_SECONDS = 300;

/** The Authorization header from the secret, read through the Powertools cache; concurrent requests share one read. */
function authorizationFrom(secretArn: string): () => Promise<Record<string, string>> {
  const read = async () => {
    const value = await getSecret(secretArn, { maxAge: CA_AUTH_SECRET_MAX_AGE_SECONDS });
    if (typeof value !== 'string' || value.trim() === '')
      throw new ConfigError(
        'CA_AUTH_HEADER_SECRET_ARN',
        'the secret must hold the Authorization header value as a non-empty string',
      );
    return { authorization: value.trim() };
  };
  let pending: Promise<Record<string, string>> | undefined;
  return () => {
    pending ??= read().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

export function createCaRevocation(config: CaRevocationConfig, ca?: CaRevocation): CaRevocationService {
  const headers = config.authHeaderSecretArn ? authorizationFrom(config.authHeaderSecretArn) : undefined;
  return caRevocationService({
    ca: ca ?? lamassuCa({ baseUrl: config.caApiUrl, timeoutMs: config.timeoutMs, ...(headers ? { headers } : {}) }),
    log: (level, message, detail) => logger[level](message, detail),
  });
}

let current: CaRevocationService | undefined;

/** The process-wide service, from the environment (CA_API_URL, CA_TIMEOUT_MS, CA_AUTH_HEADER_SECRET_ARN). */
export function caRevocation(): CaRevocationService {
  current ??= createCaRevocation(loadCaRevocationConfig());
  return current;
}

/** Test hook: replace the process-wide service. */
export function setCaRevocation(next: CaRevocationService | undefined): void {
  current = next;
}
