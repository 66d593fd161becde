/**
 * The slot version item's stored layout on the embedded engine (docs/data-model.md, Slot version
 * items): the certificate's DER as a binary attribute, read back to the very version that was bound;
 * items of the earlier layout (PEM in `doc`) still read, revoke and supersede; the item is smaller, so
 * an EC-P256 identity with its index attributes stays under a kilobyte (one write unit). The engine keeps the
 * binary attribute through Put, TransactWrite, Update, Get, Query and stream images.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Engine } from '@device-manager/local-engine';
import { startStreamFeed } from '@device-manager/local-engine/stream-feed';
import { itemSize } from '../../../bench/capacity';
import { slotVersionKey } from '../../../functions/adapters/dynamodb/keys';
import { DER_ATTRIBUTE, parseVersionItem, versionItem } from '../../../functions/adapters/dynamodb/slot-version-item';
import { parseCertificate, type ParsedCertificate } from '../../../functions/domain/certificate';
import { VersionConflictError } from '../../../functions/domain/errors';
import type { SlotVersion } from '../../../functions/domain/slots';
import { certificate, newKeyPair, type TestAlgorithm } from '../../support/certificates';
import { startTestEngine } from '../../support/dynamo';
import { postureStack } from '../../support/posture';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

const validity = { notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' };
/** A certificate as bench:posture binds it (issuer and subject `CN=Fleet CA`). */
const certificateOf = async (algorithm: TestAlgorithm, keys?: Awaited<ReturnType<typeof newKeyPair>>) =>
  parseCertificate(
    (await certificate({ algorithm, subject: 'CN=Fleet CA', ...validity, ...(keys ? { keys } : {}) })).pem,
  );

async function setup() {
  const stack = await postureStack(engine);
  const { table, repository, service, walk } = stack;
  // Assessed before any device: a bind puts the drill-down and holder index attributes on its version.
  await walk();
  const TableName = table.tableName;
  const db = table.documentClient;
  const stored = async (id: string, version: number, slot = 'identity') =>
    (await db.send(new GetCommand({ TableName, Key: slotVersionKey(id, slot, version), ConsistentRead: true }))).Item!;
  const bind = (id: string, cert: ParsedCertificate) =>
    service.bind(id, 'identity', { type: 'x509', certificate: cert });
  const read = (id: string, version: number) => repository.getSlotVersion(id, 'identity', version);
  return { ...stack, TableName, db, stored, bind, read };
}

/** The item the earlier layout wrote for `item`'s version: the whole version in `doc`, no `der`. */
function earlierLayout(item: Record<string, unknown>): Record<string, unknown> {
  const { [DER_ATTRIBUTE]: _der, ...rest } = item;
  return { ...rest, doc: JSON.stringify(parseVersionItem(item)) };
}

describe('the compact slot version item', () => {
  it.each(['EC-P256', 'RSA-2048'] as const)(
    'reads back the bound %s certificate byte for byte, from a smaller item',
    async (algorithm) => {
      const { service, stored, bind, read } = await setup();
      await service.register({ id: 'd1', dms_id: 'dms' });
      const bound = await certificateOf(algorithm);
      await bind('d1', bound);
      const item = await stored('d1', 0);
      // Binary DER, no PEM and no certificate fingerprint in the document; the index attributes are on it.
      expect(item[DER_ATTRIBUTE]).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(item[DER_ATTRIBUTE] as Uint8Array).toString('base64')).toBe(
        bound.pem.split('\n').slice(1, -2).join(''),
      );
      expect(item.doc).not.toContain('CERTIFICATE');
      expect(item.doc).not.toContain(bound.sha256_fingerprint);
      // The device id, slot and version come from the item's key.
      expect(Object.keys(JSON.parse(item.doc as string))).not.toEqual(expect.arrayContaining(['device_id']));
      expect(item).toMatchObject({ epk: expect.any(String), hk: expect.any(String), hs: expect.any(String) });

      const version = (await read('d1', 0))!;
      expect(JSON.stringify(version.certificate)).toBe(JSON.stringify(bound));
      // The whole version serializes as the earlier layout stored it: answers and events do not move.
      expect(JSON.stringify(version)).toBe(earlierLayout(item).doc);
      expect((await service.slotVersion('d1', 'identity', 0)).certificate).toEqual(bound);

      // bench/capacity.ts's item size: the earlier layout is larger by the PEM against the DER and the fingerprint.
      const saved = itemSize(earlierLayout(item)) - itemSize(item);
      expect(saved).toBeGreaterThan(JSON.stringify(bound.pem).length - (item.der as Uint8Array).length + 64);
      if (algorithm === 'EC-P256') {
        expect(itemSize(earlierLayout(item))).toBeGreaterThan(1024);
        expect(itemSize(item)).toBeLessThan(1024);
      }
    },
  );

  it('comes back the same from a Query and in the stream images', async () => {
    const { table, TableName, db, service, bind, read } = await setup();
    const images: Record<string, AttributeValue>[] = [];
    const feed = startStreamFeed({
      engine: table.engine,
      tableName: TableName,
      handler: async (event) => {
        for (const r of event.Records) {
          const image = r.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
          if (image?.kind?.S === 'slot-version') images.push(image);
        }
      },
    });
    try {
      await service.register({ id: 'd1', dms_id: 'dms' });
      await bind('d1', await certificateOf('EC-P256'));
      await feed.drain();
    } finally {
      await feed.stop();
    }
    const bound = await read('d1', 0);
    const { Items } = await db.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :slot)',
        ExpressionAttributeValues: { ':pk': 'DEVICE#d1', ':slot': 'SLOT#' },
      }),
    );
    expect(Items!.map((item) => parseVersionItem(item))).toEqual([bound]);
    // An Update of the item's other attributes (as a status change does to the drill-down's) keeps the DER.
    await db.send(
      new UpdateCommand({
        TableName,
        Key: slotVersionKey('d1', 'identity', 0),
        UpdateExpression: 'SET st = :st',
        ExpressionAttributeValues: { ':st': 'EXPIRED' },
      }),
    );
    expect(await read('d1', 0)).toEqual(bound);
    expect(images.length).toBeGreaterThan(0);
    // As in a Lambda stream event: the binary attribute as base64 text, which the one parse function reads too.
    const der = Buffer.from(Items![0]![DER_ATTRIBUTE] as Uint8Array).toString('base64');
    expect(images.map((image) => image[DER_ATTRIBUTE]?.B)).toEqual(images.map(() => der));
    for (const image of images) expect(parseVersionItem(unmarshall(image))).toEqual(bound);
  });
});

describe('items of the earlier layout (PEM in the document)', () => {
  /** d1 bound, then its version item rewritten raw in the earlier layout, index attributes kept. */
  async function earlier() {
    const ctx = await setup();
    await ctx.service.register({ id: 'd1', dms_id: 'dms' });
    const keys = await newKeyPair('EC-P256');
    const first = await certificateOf('EC-P256', keys);
    await ctx.bind('d1', first);
    const before = await ctx.read('d1', 0);
    const raw = earlierLayout(await ctx.stored('d1', 0));
    await ctx.db.send(new PutCommand({ TableName: ctx.TableName, Item: raw }));
    expect((await ctx.stored('d1', 0))[DER_ATTRIBUTE]).toBeUndefined();
    return { ...ctx, keys, first, before, raw };
  }

  it('read back identical, and are written compactly by the next change', async () => {
    const { read, bind, stored, first, before, keys, service } = await earlier();
    expect(await read('d1', 0)).toEqual(before);
    expect(JSON.stringify((await read('d1', 0))!.certificate)).toBe(JSON.stringify(first));
    expect((await service.slotVersion('d1', 'identity', 0)).certificate).toEqual(first);
    // A renewal (same key pair) supersedes the earlier-layout version: it is put again, compactly.
    await bind('d1', await certificateOf('EC-P256', keys));
    const superseded = (await read('d1', 0))!;
    expect(superseded).toEqual({ ...before, status: 'SUPERSEDED' });
    expect((await stored('d1', 0))[DER_ATTRIBUTE]).toBeInstanceOf(Uint8Array);
  });

  it('are saved under the condition that they were not changed since read, in either layout', async () => {
    const { repository, read, stored, raw, before, TableName, db } = await earlier();
    expect(raw.doc).toBe(JSON.stringify(before));
    const v0 = (await read('d1', 0)) as SlotVersion;
    const revoked: SlotVersion = { ...v0, status: 'REVOKED', revocation_reason: 'Superseded', revoked_at: 'x' };
    // Read in the earlier layout: its condition holds, and the save writes the compact layout.
    await repository.saveSlotVersion(revoked, v0);
    expect(await read('d1', 0)).toEqual(revoked);
    expect((await stored('d1', 0))[DER_ATTRIBUTE]).toBeInstanceOf(Uint8Array);
    // Saved against a copy read before: refused, in the compact layout and in the earlier one.
    const stale = { ...v0, ca_reported_at: 'y' };
    await expect(repository.saveSlotVersion(stale, v0)).rejects.toBeInstanceOf(VersionConflictError);
    await db.send(new PutCommand({ TableName, Item: earlierLayout(await stored('d1', 0)) }));
    await expect(repository.saveSlotVersion(stale, v0)).rejects.toBeInstanceOf(VersionConflictError);
    expect(await read('d1', 0)).toEqual(revoked);
  });
});

describe('versions the compact layout would not give back exactly', () => {
  it('keep the earlier layout', async () => {
    const cert = await certificateOf('EC-P256');
    const base: SlotVersion = {
      device_id: 'd',
      slot: 'identity',
      version: 0,
      type: 'x509',
      status: 'ACTIVE',
      created_at: '2026-01-01T00:00:00.000Z',
      certificate: cert,
    };
    expect(versionItem(base)[DER_ATTRIBUTE]).toBeInstanceOf(Uint8Array);
    const { pem, ...afterPem } = cert;
    for (const certificate of [
      // A PEM not in the normalised form (CRLF), a fingerprint not the DER's, fields in another order.
      { ...cert, pem: cert.pem.replace(/\n/g, '\r\n') },
      { ...cert, sha256_fingerprint: '00'.repeat(32) },
      { ...afterPem, pem },
    ]) {
      const item = versionItem({ ...base, certificate });
      expect(item[DER_ATTRIBUTE]).toBeUndefined();
      expect(JSON.stringify(parseVersionItem(item))).toBe(JSON.stringify({ ...base, certificate }));
    }
  });
});
