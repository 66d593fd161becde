/**
 * The composition root of the CA revocation call (queue → Lamassu's CA): the HTTP adapter only, so
 * the function loads neither the table client nor any AWS SDK client.
 */
import { type CaRevocationService, caRevocationService } from '../app/ca-revocation';
import type { CaRevocation } from '../app/ports';
import { lamassuCa } from '../adapters/lamassu-ca/ca-client';
import { type CaRevocationConfig, loadCaRevocationConfig } from './config';
import { logger } from './observability';

export function createCaRevocation(config: CaRevocationConfig, ca?: CaRevocation): CaRevocationService {
  return caRevocationService({
    ca: ca ?? lamassuCa({ baseUrl: config.caApiUrl, timeoutMs: config.timeoutMs }),
    log: (level, message, detail) => logger[level](message, detail),
  });
}

let current: CaRevocationService | undefined;

/** The process-wide service, from the environment (CA_API_URL, CA_TIMEOUT_MS). */
export function caRevocation(): CaRevocationService {
  current ??= createCaRevocation(loadCaRevocationConfig());
  return current;
}

/** Test hook: replace the process-wide service. */
export function setCaRevocation(next: CaRevocationService | undefined): void {
  current = next;
}
