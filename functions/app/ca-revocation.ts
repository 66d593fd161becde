/**
 * The CA revocation call (setting caApiUrl; docs/lamassu-compatibility.md, Revocation pushed to the CA): the
 * `ca.certificate.revoke.request` events
 * the publisher puts on the bus (functions/lamassu/events.ts) arrive from SQS in batches; each is
 * sent to the CA, retried with full-jitter backoff within the invocation while the CA answers
 * retryably (429, 5xx, timeouts), and reported as a batch item failure when it still fails, so SQS
 * delivers it again and, after the queue's receives, moves it to the dead-letter queue. An unknown
 * serial (404) is acknowledged and counted: it would never succeed.
 */
import { backoffDelay, type BackoffPolicy } from '../domain/backoff';
import { REVOCATION_REQUEST_TYPE } from '../domain/slots';
import { type CaRevocation, type CaRevocationOutcome, type CaRevocationRequest, CaRequestError } from './ports';
import { REAL_TIMER, type RetryTimer } from './retry';

/** Retries within one invocation: 20 s at most, sleeps up to 5 s (within the function's 60 s timeout). */
export const CA_BACKOFF: BackoffPolicy = { baseMs: 200, capMs: 5000, budgetMs: 20_000 };

export interface CaRevocationMessage {
  messageId: string;
  /** The EventBridge event, as the rule's SQS target delivers it. */
  body: string;
}

export type CaMessageOutcome = CaRevocationOutcome | 'ignored' | 'failed';

export interface CaBatchReport {
  /** Message ids to deliver again (SQS batchItemFailures). */
  failed: string[];
  counts: Record<CaMessageOutcome, number>;
}

export interface CaRevocationDeps {
  ca: CaRevocation;
  policy?: BackoffPolicy;
  timer?: RetryTimer;
  log?: (level: 'info' | 'warn' | 'error', message: string, detail: Record<string, unknown>) => void;
}

/** The request of a bus event; undefined for an event of another type. Throws on an unreadable message. */
export function revocationRequestOf(body: string): CaRevocationRequest | undefined {
  const event = JSON.parse(body) as {
    'detail-type'?: string;
    detail?: { type?: string; data?: Record<string, unknown> };
  };
  const type = event.detail?.type ?? event['detail-type'];
  if (type !== REVOCATION_REQUEST_TYPE) return undefined;
  const data = event.detail?.data ?? {};
  const { serial_number: serial, revocation_reason: reason, device_id: deviceId } = data;
  if (typeof serial !== 'string' || !/^[0-9a-fA-F][0-9a-fA-F:-]*$/.test(serial))
    throw new Error(`detail.data.serial_number must be a hex serial, got ${JSON.stringify(serial)}`);
  if (data.status !== 'REVOKED')
    throw new Error(`detail.data.status must be REVOKED, got ${JSON.stringify(data.status)}`);
  return {
    serialNumber: serial,
    revocationReason: typeof reason === 'string' ? reason : 'Unspecified',
    ...(typeof deviceId === 'string' ? { deviceId } : {}),
  };
}

export interface CaRevocationService {
  revoke(request: CaRevocationRequest): Promise<CaRevocationOutcome>;
  handleBatch(messages: CaRevocationMessage[]): Promise<CaBatchReport>;
}

export function caRevocationService({
  ca,
  policy = CA_BACKOFF,
  timer = REAL_TIMER,
  log = () => undefined,
}: CaRevocationDeps): CaRevocationService {
  /** One revocation, retried while the CA's answer is retryable and the budget lasts. */
  async function revoke(request: CaRevocationRequest): Promise<CaRevocationOutcome> {
    const start = timer.now();
    for (let retry = 0; ; retry++) {
      try {
        return await ca.revoke(request);
      } catch (error) {
        if (!(error instanceof CaRequestError) || !error.retryable) throw error;
        const delay = backoffDelay(policy, retry, timer.now() - start, timer.random());
        if (delay === undefined) throw error;
        log('warn', 'ca-revocation: retrying', {
          serial: request.serialNumber,
          retry: retry + 1,
          delayMs: delay,
          error: error.message,
        });
        await timer.sleep(delay);
      }
    }
  }

  async function handleOne(message: CaRevocationMessage): Promise<CaMessageOutcome> {
    let request: CaRevocationRequest | undefined;
    try {
      request = revocationRequestOf(message.body);
    } catch (error) {
      // Unreadable: failed, so it ends in the dead-letter queue for a look rather than vanishing.
      log('error', 'ca-revocation: unreadable message', {
        messageId: message.messageId,
        error: error instanceof Error ? error.message : String(error),
      });
      return 'failed';
    }
    if (!request) return 'ignored';
    try {
      const outcome = await revoke(request);
      const detail = {
        messageId: message.messageId,
        serial: request.serialNumber,
        deviceId: request.deviceId,
        outcome,
      };
      if (outcome === 'unknown-serial')
        log('warn', 'ca-revocation: the CA does not know the serial; acknowledged', detail);
      else log('info', 'ca-revocation: revoked at the CA', detail);
      return outcome;
    } catch (error) {
      log('error', 'ca-revocation: failed; the message will be delivered again', {
        messageId: message.messageId,
        serial: request.serialNumber,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      return 'failed';
    }
  }

  return {
    revoke,
    async handleBatch(messages) {
      const outcomes = await Promise.all(messages.map(handleOne));
      const counts: Record<CaMessageOutcome, number> = {
        revoked: 0,
        'already-revoked': 0,
        'unknown-serial': 0,
        ignored: 0,
        failed: 0,
      };
      for (const outcome of outcomes) counts[outcome]++;
      return { failed: messages.filter((_, i) => outcomes[i] === 'failed').map((m) => m.messageId), counts };
    },
  };
}
