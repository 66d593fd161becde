/**
 * `npm run bench:cost`: capacity units of one change and one page, billed by DynamoDB's published
 * rules (bench/capacity.ts) on the requests the service sends. A device of about 2 KB with two tags;
 * targets: a change ≤ 20 write units, a list page of 25 ≤ 15 read units. Also the largest
 * transaction: replacing all 50 tags of a device in one PATCH.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { deviceService } from '../functions/app/devices';
import { bookmarkCodec } from '../functions/adapters/dynamodb/bookmark';
import { createDocumentClient } from '../functions/adapters/dynamodb/client';
import { deviceRepository } from '../functions/adapters/dynamodb/device-repository';
import { policyRepository } from '../functions/adapters/dynamodb/policy-repository';
import { parseCertificate } from '../functions/domain/certificate';
import { ensureTable } from '../local/create-table';
import { startEngine } from '@device-manager/local-engine';
import { meterClient } from './capacity';
import { printTable } from './support';

process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.AWS_REGION ??= 'us-east-1';

const FLEET = 60;
const INDEXED = (process.env.INDEXED_METADATA_KEYS ?? 'firmware_version,location').split(',').filter(Boolean);

async function pem(notAfter: Date): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomUUID().replace(/-/g, '').slice(0, 16),
    name: 'CN=bench',
    notBefore: new Date('2020-01-01'),
    notAfter,
    keys,
    signingAlgorithm: alg,
  });
  return cert.toString('pem');
}

/** Metadata that makes the device document about 2 KB. */
const metadata = (i: number) => ({ firmware_version: '1.4.2', location: `Building-${i % 3}`, notes: 'x'.repeat(1400) });

async function main() {
  const engine = await startEngine();
  const tableName = `cost-${randomUUID()}`;
  const admin = new DynamoDBClient({ endpoint: engine.endpoint, region: 'us-east-1' });
  await ensureTable(admin, tableName);
  const client = createDocumentClient({ endpoint: engine.endpoint });
  const raw = createDocumentClient({ endpoint: engine.endpoint });
  const meter = meterClient(client, raw, tableName);
  const repository = deviceRepository({
    client,
    tableName,
    listShards: 4,
    statsShards: 4,
    bookmarks: bookmarkCodec('bench'),
    indexedMetadataKeys: INDEXED,
  } as Parameters<typeof deviceRepository>[0]);
  const policies = policyRepository({ client, tableName, bookmarks: bookmarkCodec('bench') });
  const service = deviceService({ devices: repository, policies, clock: { now: () => new Date() }, newId: randomUUID });
  // Index back-fill (when the repository has one) on the empty table: the indexed keys become ready.
  await (repository as { backfill?: (key: string) => Promise<unknown> }).backfill?.('*');

  const rows: (string | number)[][] = [];
  const measure = async (what: string, op: () => Promise<unknown>) => {
    meter.reset();
    await op();
    rows.push([what, meter.wcu, meter.rcu, meter.actions, meter.maxTransaction]);
  };

  for (let i = 0; i < FLEET; i++)
    await service.register({ id: `filler-${i}`, dms_id: 'dms-1', tags: ['line-3', 'sensor'], metadata: metadata(i) });
  const id = 'device-2kb';
  await measure('register (2 KB, 2 tags)', () =>
    service.register({ id, dms_id: 'dms-1', tags: ['line-3', 'sensor'], metadata: metadata(0) }),
  );
  const size = JSON.stringify(await service.get(id)).length;
  await measure('PATCH metadata value', () =>
    service.patch(id, 'application/merge-patch+json', { metadata: { firmware_version: '1.4.3' } }),
  );
  await measure('PATCH replace one tag', () =>
    service.patch(id, 'application/merge-patch+json', { tags: ['line-4', 'sensor'] }),
  );
  const certificate = parseCertificate(await pem(new Date(Date.now() + 365 * 86_400_000)));
  await measure('bind identity certificate', () => service.bind(id, 'identity', { type: 'x509', certificate }));
  await measure('renew identity certificate', async () =>
    service.bind(id, 'identity', {
      type: 'x509',
      certificate: parseCertificate(await pem(new Date(Date.now() + 400 * 86_400_000))),
    }),
  );
  await measure('decommission', () => service.decommission(id));
  await measure('GET device', () => service.get(id));
  await measure('list page of 25 (all)', () =>
    service.list({ filters: [], sortBy: 'creation_timestamp', sortMode: 'asc', pageSize: 25 }),
  );
  await measure('list page of 25 (tag)', () =>
    service.list({
      filters: [{ kind: 'tags', field: 'tags', op: 'ct', value: 'sensor' }],
      sortBy: 'creation_timestamp',
      sortMode: 'asc',
      pageSize: 25,
    }),
  );
  await measure('stats (all)', () => service.stats([]));

  const wide = 'device-50-tags';
  await service.register({
    id: wide,
    dms_id: 'dms-1',
    tags: Array.from({ length: 50 }, (_, i) => `old-${i}`),
    metadata: metadata(1),
  });
  let swap = 'ok';
  await measure('PATCH replace all 50 tags', () =>
    service
      .patch(wide, 'application/merge-patch+json', { tags: Array.from({ length: 50 }, (_, i) => `new-${i}`) })
      .catch((error: unknown) => {
        swap = `failed: ${error instanceof Error ? error.message.slice(0, 80) : String(error)}`;
      }),
  );

  printTable(
    `Capacity per request (device document ${size} bytes; indexes: ${ALL_INDEX_NAMES()})`,
    ['request', 'write units', 'read units', 'write actions', 'largest transaction'],
    rows,
  );
  console.log(`50-tag swap: ${swap}`);
  const change = rows.find((r) => r[0] === 'PATCH metadata value')!;
  const page = rows.find((r) => r[0] === 'list page of 25 (all)')!;
  console.log(`target: change ≤ 20 WCU → ${change[1]}; list page of 25 ≤ 15 RCU → ${page[2]}`);
  client.destroy();
  raw.destroy();
  admin.destroy();
  await engine.stop();
}

function ALL_INDEX_NAMES(): string {
  const { ALL_INDEXES } =
    require('../functions/adapters/dynamodb/schema') as typeof import('../functions/adapters/dynamodb/schema');
  return ALL_INDEXES.map((i) => `${i.name} ${i.projection ?? 'ALL'}`).join(', ');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
