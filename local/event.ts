/**
 * `npm run event -- <command> <serial> [reason]`: puts a `certificate.status.update` on the bus of a
 * running local service (`npm start`), as a CA would, through its local-only `POST /_local/events`.
 *
 *   npm run event -- certificate-revoked <serial> [reason]   REVOKED (reason default Unspecified)
 *   npm run event -- certificate-active <serial>             ACTIVE (releases a CertificateHold)
 *   npm run event -- certificate-expired <serial>            EXPIRED
 *   npm run event -- connected <client id>                   an AWS IoT presence event (IOT_PRESENCE=true)
 *   npm run event -- disconnected <client id>
 *
 * The service is found at LOCAL_URL, else http://127.0.0.1:$PORT (PORT default 3000). With JWT auth
 * on (AUTH_JWKS), LOCAL_TOKEN (else DEVICE_MANAGER_TOKEN, as the CLI reads) is sent as the bearer
 * token; it needs the devices:write scope.
 */
import { randomUUID } from 'node:crypto';

const COMMANDS = {
  'certificate-revoked': 'REVOKED',
  'certificate-active': 'ACTIVE',
  'certificate-expired': 'EXPIRED',
} as const;
type Command = keyof typeof COMMANDS;

/** The bus entry of a CA's certificate status update: a CloudEvents envelope whose data.updated is the certificate. */
export function certificateStatusEntry(
  serial: string,
  status: (typeof COMMANDS)[Command],
  reason?: string,
  now = new Date(),
) {
  return {
    source: 'local.ca',
    'detail-type': 'certificate.status.update',
    detail: {
      specversion: '1.0',
      id: randomUUID(),
      source: 'local.ca',
      type: 'certificate.status.update',
      subject: `certificate/${serial}`,
      time: now.toISOString(),
      datacontenttype: 'application/json',
      data: { updated: { serial_number: serial, status, ...(reason ? { revocation_reason: reason } : {}) } },
    },
  };
}

const PRESENCE = ['connected', 'disconnected'] as const;

/** An AWS IoT lifecycle event as its rule delivers it (`$aws/events/presence/<eventType>/<clientId>`). */
export function presenceEntry(clientId: string, eventType: (typeof PRESENCE)[number], now = new Date()) {
  return { clientId, eventType, timestamp: now.getTime(), sessionIdentifier: randomUUID() };
}

/** JSON, and the bearer token when one is given. */
export function eventHeaders(token: string | undefined): Record<string, string> {
  return { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

async function main(argv: string[]): Promise<number> {
  const [command, serial, reason] = argv;
  const presence = PRESENCE.find((p) => p === command);
  if (!command || !(command in COMMANDS || presence) || !serial) {
    console.error(
      `usage: npm run event -- <${Object.keys(COMMANDS).join('|')}> <serial> [reason]\n` +
        `       npm run event -- <${PRESENCE.join('|')}> <client id>`,
    );
    return 2;
  }
  const base = process.env.LOCAL_URL ?? `http://127.0.0.1:${process.env.PORT ?? '3000'}`;
  const entry = presence
    ? presenceEntry(serial, presence)
    : certificateStatusEntry(serial, COMMANDS[command as Command], reason);
  const token = process.env.LOCAL_TOKEN ?? process.env.DEVICE_MANAGER_TOKEN;
  let res: Response;
  try {
    res = await fetch(`${base}/_local/events`, {
      method: 'POST',
      headers: eventHeaders(token),
      body: JSON.stringify(entry),
    });
  } catch (error) {
    console.error(
      `no local service ` +
        `at ${base} (start ` +
        `it with npm start): ` +
        `${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
  const body = (await res.json()) as {
    written?: number;
    deliveries?: { target: string; ok: boolean; result?: { outcome?: string; results?: unknown[] }; error?: string }[];
  };
  if (!res.ok) {
    console.error(`${res.status}: ${JSON.stringify(body)}`);
    return 1;
  }
  if (presence) {
    console.log(`presence: ${JSON.stringify(body)}`);
    return 0;
  }
  for (const d of body.deliveries ?? [])
    console.log(
      `${d.target}: ` +
        (d.ok ? `${d.result?.outcome ?? 'ok'} ${JSON.stringify(d.result?.results ?? [])}` : `failed: ${d.error}`),
    );
  return (body.deliveries ?? []).every((d) => d.ok) ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
