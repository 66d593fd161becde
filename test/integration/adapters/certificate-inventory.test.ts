/**
 * The certificate inventory on the embedded engine: counters per slot and dimension applied from the
 * stream, the identity key and issuer drill-down entry points, and the back-fill of devices stored
 * before crypto profiles existed (409 INDEX_NOT_READY until it is done).
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { deviceService } from '../../../functions/app/devices';
import { insightsService } from '../../../functions/app/insights';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { sweepIndex } from '../../../functions/adapters/dynamodb/sweep-index';
import { sweep } from '../../../functions/app/sweep';
import { indexStateKey } from '../../../functions/adapters/dynamodb/keys';
import { parseCertificate } from '../../../functions/domain/certificate';
import type { Device } from '../../../functions/domain/device';
import { IndexNotReadyError } from '../../../functions/domain/errors';
import { compileCriterion, type Filter, splitFilterParam } from '../../../functions/domain/filters';
import { MERGE_PATCH } from '../../../functions/domain/patch';
import type { Engine } from '@device-manager/local-engine';
import { certificate, type KeyPair, newKeyPair, type TestAlgorithm } from '../../support/certificates';
import { freshTable, settledCounters, startTestEngine, testClock, type TestTable } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

/** The entry attributes the drill-down entry sets on the identity's slot version item. */
const ENTRY_ATTRIBUTES = ['epk', 'esk_created', 'esk_id', 'esk_exp', 'st'];

const f = (param: string): Filter => compileCriterion(splitFilterParam(param)!, 'filter[0]').filter!;
const page = (filters: Filter[], pageSize = 25) => ({
  filters,
  sortBy: 'creation_timestamp' as const,
  sortMode: 'asc' as const,
  pageSize,
});

function setup(table: TestTable) {
  const clock = testClock();
  const repository = settledCounters(
    deviceRepository({
      client: table.documentClient,
      tableName: table.tableName,
      listShards: 3,
      statsShards: 2,
      bookmarks: bookmarkCodec('k'),
    }),
    table,
    2,
  );
  const policies = policyRepository({
    client: table.documentClient,
    tableName: table.tableName,
    bookmarks: bookmarkCodec('k'),
  });
  const service = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  const insights = insightsService({ devices: repository, clock });
  return { clock, repository, service, insights };
}

const x509 = (pem: string) => ({ type: 'x509' as const, certificate: parseCertificate(pem) });
/** One key pair per algorithm: key generation (RSA above all) would cost more than the test itself. */
const keyPairs = new Map<TestAlgorithm, Promise<KeyPair>>();
const pemOf = async (algorithm: TestAlgorithm, subject: string) => {
  if (!keyPairs.has(algorithm)) keyPairs.set(algorithm, newKeyPair(algorithm));
  const keys = await keyPairs.get(algorithm)!;
  return (
    await certificate({ algorithm, keys, subject, notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' })
  ).pem;
};

/** Ten devices: 4 RSA-2048 (one revoked, one decommissioned), 4 EC-P256, 2 EC-P384; one extra slot each on two. */
async function fleet(ctx: ReturnType<typeof setup>) {
  const plan: [TestAlgorithm, string][] = [
    ['RSA-2048', 'CN=Old CA'],
    ['RSA-2048', 'CN=Old CA'],
    ['RSA-2048', 'CN=Old CA'],
    ['RSA-2048', 'CN=Old CA'],
    ['EC-P256', 'CN=New CA'],
    ['EC-P256', 'CN=New CA'],
    ['EC-P256', 'CN=New CA'],
    ['EC-P256', 'CN=New CA'],
    ['EC-P384', 'CN=New CA'],
    ['EC-P384', 'CN=New CA'],
  ];
  for (const [i, [algorithm, subject]] of plan.entries()) {
    const id = `d-${i}`;
    await ctx.service.register({ id, dms_id: 'dms' });
    await ctx.service.bind(id, 'identity', x509(await pemOf(algorithm, subject)));
  }
  for (const id of ['d-4', 'd-5']) await ctx.service.bind(id, 'tls', x509(await pemOf('EC-P384', 'CN=TLS CA')));
  await ctx.service.revoke('d-0', 'identity', 'KeyCompromise');
  await ctx.service.decommission('d-1');
}

async function inventory(
  ctx: ReturnType<typeof setup>,
  by: 'key' | 'signature' | 'issuer' | 'validity',
  slot = 'identity',
) {
  return ctx.insights.certificateInventory({ by, slot });
}

describe('certificate inventory', () => {
  let table: TestTable;
  let ctx: ReturnType<typeof setup>;

  /** Makes every device look as written before the inventory: no profile, no marker key, no entries. */
  async function forgetInventory() {
    const out = await table.documentClient.send(new ScanCommand({ TableName: table.tableName }));
    for (const item of out.Items ?? []) {
      if (item.kind === 'device') {
        const doc = JSON.parse(item.doc as string) as Device;
        if (doc.identity) delete doc.identity.crypto;
        for (const slot of Object.values(doc.slots)) delete slot.crypto;
        await table.documentClient.send(
          new UpdateCommand({
            TableName: table.tableName,
            Key: { pk: item.pk, sk: item.sk },
            UpdateExpression: 'SET #doc = :doc, mk = :mk',
            ExpressionAttributeNames: { '#doc': 'doc' },
            ExpressionAttributeValues: { ':doc': JSON.stringify(doc), ':mk': ',@forecast,' },
          }),
        );
      } else if (String(item.sk).startsWith('SLOT#') && item.epk !== undefined)
        await table.documentClient.send(
          new UpdateCommand({
            TableName: table.tableName,
            Key: { pk: item.pk, sk: item.sk },
            UpdateExpression: `REMOVE ${ENTRY_ATTRIBUTES.join(', ')}`,
          }),
        );
    }
    for (const key of ['@inventory', '@cert-entries'])
      await table.documentClient.send(new DeleteCommand({ TableName: table.tableName, Key: indexStateKey(key) }));
  }

  /** Items of a device's partition whose sort key starts with `prefix`. */
  const itemsOf = async (id: string, prefix: string) =>
    (
      await table.documentClient.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': `DEVICE#${id}`, ':p': prefix },
        }),
      )
    ).Items ?? [];

  beforeAll(async () => {
    table = await freshTable(engine);
    ctx = setup(table);
    // A new table: the back-fill finds nothing to do and the inventory is ready.
    expect(await ctx.repository.backfillIndexes(Date.now() + 60_000, 50)).toEqual({ indexed: 0, complete: true });
    await fleet(ctx);
  }, 60_000);

  it('counts the certificates in service by key, signature, issuer and validity, per slot', async () => {
    expect(await inventory(ctx, 'key')).toMatchObject({
      by: 'key',
      slot: 'identity',
      counts: { 'EC-P256': 4, 'EC-P384': 2, 'RSA-2048': 2 },
      total: 8,
    });
    const signature = await inventory(ctx, 'signature');
    expect(signature.counts).toEqual({
      'ecdsa-with-SHA256': 4,
      'ecdsa-with-SHA384': 2,
      sha256WithRSAEncryption: 2,
    });
    // Self-signed test certificates: the issuer is the subject; they carry no authority key id.
    expect((await inventory(ctx, 'issuer')).counts).toEqual({ 'CN=New CA': 6, 'CN=Old CA': 2 });
    expect((await inventory(ctx, 'validity')).counts).toEqual({ 'up-to-397d': 8 });
    expect(await inventory(ctx, 'key', 'tls')).toMatchObject({ counts: { 'EC-P384': 2 }, total: 2 });
    expect(await inventory(ctx, 'key', 'nothing-here')).toMatchObject({ counts: {}, total: 0 });
  });

  it('follows revocations and re-provisions from the stream', async () => {
    await ctx.service.bind('d-2', 'identity', x509(await pemOf('EC-P256', 'CN=New CA')));
    expect((await inventory(ctx, 'key')).counts).toEqual({ 'EC-P256': 5, 'EC-P384': 2, 'RSA-2048': 1 });
    await ctx.service.revoke('d-9', 'identity', 'Superseded');
    expect((await inventory(ctx, 'key')).counts).toEqual({ 'EC-P256': 5, 'EC-P384': 1, 'RSA-2048': 1 });
  });

  it('drills down by identity key and issuer from their own entries, never the whole fleet', async () => {
    for (let i = 10; i < 20; i++) await ctx.service.register({ id: `x-${i}`, dms_id: 'dms' });
    const before = ctx.repository.itemsRead;
    const rsa = await ctx.service.list(page([f('identity.key[eq]RSA-2048')]));
    expect(rsa.list.map((d) => d.id)).toEqual(['d-3']);
    // The key and issuer pair counters (3 pairs × 2 stats shards), one index Query per list shard of the one
    // pair with that key, and the one device: not the 20 devices of the fleet.
    expect(ctx.repository.itemsRead - before).toBeLessThanOrEqual(3 * 2 + 1 + 1);
    const byIssuer = await ctx.service.list(page([f('identity.issuer[eq]CN=New CA'), f('dms_owner[eq]dms')], 100));
    expect(byIssuer.list.map((d) => d.id).sort()).toEqual(['d-2', 'd-4', 'd-5', 'd-6', 'd-7', 'd-8']);
    const ne = await ctx.service.list(page([f('identity.key[ne]EC-P256'), f('id[eq]d-8')]));
    expect(ne.list.map((d) => d.id)).toEqual(['d-8']);
  });

  it('answers 409 INDEX_NOT_READY until the back-fill is done, then counts every device', async () => {
    await forgetInventory();
    // The removed marker key took the devices' cells out of the counters through the stream.
    const fresh = setup(table);
    await expect(inventory(fresh, 'key')).rejects.toBeInstanceOf(IndexNotReadyError);
    // A device the walk has not reached would not match: the drill-down waits for the back-fill too.
    await expect(fresh.service.list(page([f('identity.key[eq]RSA-2048')]))).rejects.toBeInstanceOf(IndexNotReadyError);

    // A change before the back-fill reaches the device completes its profiles itself.
    await fresh.service.patch('d-4', MERGE_PATCH, { metadata: { site: 'A' } });
    const d4 = await fresh.service.get('d-4');
    expect(d4.identity?.crypto?.key).toBe('EC-P256');

    const versionBefore = (await fresh.service.get('d-3')).version;
    // A tiny page size: the walk goes page by page, and runs out of time first.
    expect(await fresh.repository.backfillIndexes(Date.now() - 1, 2)).toMatchObject({ complete: false });
    const report = await fresh.repository.backfillIndexes(Date.now() + 60_000, 2);
    expect(report.complete).toBe(true);
    // Every device but d-4, indexed by its change (devices without a certificate are marked too).
    expect(report.indexed).toBe(19);

    const after = setup(table);
    expect((await inventory(after, 'key')).counts).toEqual({ 'EC-P256': 5, 'EC-P384': 1, 'RSA-2048': 1 });
    expect((await inventory(after, 'key', 'tls')).counts).toEqual({ 'EC-P384': 2 });
    const d3 = await after.service.get('d-3');
    expect(d3.identity?.crypto).toMatchObject({ key: 'RSA-2048', signature: 'sha256WithRSAEncryption' });
    // The version did not move: nothing a client changed.
    expect(d3.version).toBe(versionBefore);
    // The drill-down entry is on the identity's active slot version item, keyed by key and issuer together.
    expect(await itemsOf('d-3', 'ENTRY#CERT#')).toEqual([]);
    const [version] = await itemsOf('d-3', 'SLOT#identity#');
    expect(version).toMatchObject({
      epk: expect.stringMatching(/^CERT#identity=RSA-2048\|CN=Old CA#\d$/),
      st: d3.status,
    });
    const before = after.repository.itemsRead;
    expect((await after.service.list(page([f('identity.key[eq]RSA-2048')]))).list.map((d) => d.id)).toEqual(['d-3']);
    expect(after.repository.itemsRead - before).toBeLessThanOrEqual(3 * 2 + 1 + 1);
  });

  it('moves the drill-down entry items of a stored device onto its slot version (the upgrade back-fill)', async () => {
    // d-8 as stored before the entry moved: marker without the entry key, the two entry items, no entry attributes.
    const [version] = await itemsOf('d-8', 'SLOT#identity#');
    const { Item: device } = await table.documentClient.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: 'DEVICE#d-8', sk: 'DEVICE' } }),
    );
    await table.documentClient.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: version!.pk, sk: version!.sk },
        UpdateExpression: `REMOVE ${ENTRY_ATTRIBUTES.join(', ')}`,
      }),
    );
    await table.documentClient.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: 'DEVICE#d-8', sk: 'DEVICE' },
        UpdateExpression: 'SET mk = :mk',
        ExpressionAttributeValues: { ':mk': ',@forecast,@inventory,' },
      }),
    );
    const shard = String(version!.epk).split('#').at(-1);
    for (const [dimension, value] of [
      ['key', 'EC-P384'],
      ['issuer', 'CN=New CA'],
    ])
      await table.documentClient.send(
        new PutCommand({
          TableName: table.tableName,
          Item: {
            pk: 'DEVICE#d-8',
            sk: `ENTRY#CERT#identity.${dimension}`,
            kind: 'entry',
            epk: `CERT#identity.${dimension}=${value}#${shard}`,
            esk_created: device!.esk_created,
            esk_id: device!.esk_id,
            esk_exp: device!.esk_exp,
            st: device!.st,
          },
        }),
      );
    await table.documentClient.send(
      new DeleteCommand({ TableName: table.tableName, Key: indexStateKey('@cert-entries') }),
    );
    const upgraded = setup(table);
    await expect(upgraded.service.list(page([f('identity.key[eq]EC-P384')]))).rejects.toBeInstanceOf(
      IndexNotReadyError,
    );
    // The statistics need only the counters, which did not move.
    expect((await inventory(upgraded, 'key')).counts['EC-P384']).toBe(1);
    expect(await upgraded.repository.backfillIndexes(Date.now() + 60_000, 5)).toMatchObject({ complete: true });
    expect(await itemsOf('d-8', 'ENTRY#CERT#')).toEqual([]);
    expect((await itemsOf('d-8', 'SLOT#identity#'))[0]).toMatchObject({
      epk: `CERT#identity=EC-P384|CN=New CA#${shard}`,
      st: device!.st,
    });
    const byKey = await upgraded.service.list(page([f('identity.key[eq]EC-P384')]));
    expect(byKey.list.map((d) => d.id)).toEqual(['d-8']);
    expect((await inventory(upgraded, 'key')).counts['EC-P384']).toBe(1);
  });
});

describe('the drill-down entry on the slot version follows the sweeper', () => {
  it('takes the device status on, then leaves the drill-down when the certificate expires', async () => {
    const table = await freshTable(engine);
    const ctx = setup(table);
    await ctx.repository.backfillIndexes(Date.now() + 60_000, 50);
    const index = sweepIndex({ repository: ctx.repository, client: table.documentClient, tableName: table.tableName });
    const policies = policyRepository({
      client: table.documentClient,
      tableName: table.tableName,
      bookmarks: bookmarkCodec('k'),
    });
    const run = () =>
      sweep({ index, policies, service: ctx.service, clock: ctx.clock }, { deadline: Date.now() + 60_000 });
    for (const id of ['e-1', 'e-2']) {
      await ctx.service.register({ id, dms_id: 'dms' });
      await ctx.service.bind(id, 'identity', x509(await pemOf('EC-P256', 'CN=New CA')));
    }
    const versionOf = async (id: string) =>
      (
        await table.documentClient.send(
          new GetCommand({ TableName: table.tableName, Key: { pk: `DEVICE#${id}`, sk: 'SLOT#identity#000000' } }),
        )
      ).Item!;
    const drill = async (status?: string) =>
      (
        await ctx.service.list(page([f('identity.key[eq]EC-P256'), ...(status ? [f(`status[eq]${status}`)] : [])]))
      ).list.map((d) => d.id);
    expect(await drill('ACTIVE')).toEqual(['e-1', 'e-2']);
    // No entry item of its own: the bind's transaction put the entry on the version it puts anyway.
    const own = await table.documentClient.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': 'DEVICE#e-1', ':p': 'ENTRY#' },
      }),
    );
    expect(own.Items?.map((i) => i.sk).sort()).toEqual(['ENTRY#DMS', 'ENTRY#STATUS']);

    // A status change without a new version updates the version item's entry attributes.
    ctx.clock.set('2026-12-31T00:00:00.000Z');
    await run();
    const moved = await ctx.service.get('e-1');
    expect(moved.status).not.toBe('ACTIVE');
    expect(await versionOf('e-1')).toMatchObject({ st: moved.status, doc: expect.any(String) });
    expect(await drill('ACTIVE')).toEqual([]);
    expect(await drill(moved.status)).toEqual(['e-1', 'e-2']);

    // Expired: no longer in service, so the attributes are removed and the version item stays.
    ctx.clock.set('2027-01-02T00:00:00.000Z');
    await run();
    expect((await ctx.service.get('e-1')).identity?.status).toBe('EXPIRED');
    const expired = await versionOf('e-1');
    expect(expired.doc).toEqual(expect.any(String));
    for (const name of ENTRY_ATTRIBUTES) expect(expired[name]).toBeUndefined();
    expect(await drill()).toEqual([]);
  });
});
