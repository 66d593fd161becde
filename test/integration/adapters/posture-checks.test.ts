/**
 * The checks judged beyond a certificate's own profile, on the real adapter and the embedded engine.
 * Shared checks (docs/data-model.md, Shared fingerprints): the holder index on the active slot versions
 * and the reconciler on the stream; the finding opens on both holders once a second device's bind is
 * applied and resolves on the one that stays when the other leaves; concurrent binds of one
 * certificate all end with the finding; devices of an earlier release are registered by the back-fill. Then
 * `expires-after-issuer` with the issuer certificates of the policy, and `certificate-too-old`.
 */
import { DeleteCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Engine } from '@device-manager/local-engine';
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { DEFAULT_POSTURE_POLICY } from '../../../functions/domain/posture';
import { HolderIndexBehindError, ValidationError } from '../../../functions/domain/errors';
import { outboxEventJson } from '../../../functions/adapters/dynamodb/outbox';
import { deviceKey, indexStateKey, sharedHoldersKey, slotVersionKey } from '../../../functions/adapters/dynamodb/keys';
import { parseCertificate } from '../../../functions/domain/certificate';
import { findingsOf } from '../../../functions/domain/findings';
import { holdingKey } from '../../../functions/domain/shared-holdings';
import { certificate } from '../../support/certificates';
import { createSharedFindings } from '../../../functions/composition/shared-findings';
import { startCounters, startTestEngine } from '../../support/dynamo';
import { postureStack } from '../../support/posture';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

async function setup() {
  const stack = await postureStack(engine);
  const { table, repository, service } = stack;
  const bind = (id: string, pem: string) =>
    service.bind(id, 'identity', { type: 'x509', certificate: parseCertificate(pem) });
  const checks = async (id: string) => findingsOf((await repository.get(id))!).map((f) => `${f.slot}:${f.check}`);
  const scan = async () => (await table.documentClient.send(new ScanCommand({ TableName: table.tableName }))).Items!;
  // The finding events of the outbox, as `<type> <device> <check>`.
  const events = async () =>
    (await scan())
      .filter((i) => i.kind === 'outbox')
      .map((i) => JSON.parse(outboxEventJson(i.event as Uint8Array)))
      .filter((e) => e.type.startsWith('device.finding.'))
      .map((e) => `${e.type} ${e.data.device_id} ${e.data.check}`)
      .sort();
  return { ...stack, bind, checks, scan, events };
}

const validity = { notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' };
const SHARED = ['identity:shared-certificate', 'identity:shared-key'];

describe('shared-certificate and shared-key (the holder index and the reconciler on the stream)', () => {
  it('open on both holders once the stream is applied, and resolve on the one that stays', async () => {
    const { posture, repository, service, bind, checks, scan, events, walk, stream } = await setup();
    await walk();
    const feed = stream();
    try {
      for (const id of ['d1', 'd2', 'd3']) await service.register({ id, dms_id: 'dms' });
      const shared = await certificate(validity);
      const fingerprints = parseCertificate(shared.pem);

      await bind('d1', shared.pem);
      await feed.settle();
      expect(await checks('d1')).toEqual([]);
      // d1's active version is in the holder index: no item shared by devices.
      expect(await posture.keyHolders(fingerprints.public_key_sha256)).toEqual([
        { device: 'd1', slot: 'identity', certificate: fingerprints.sha256_fingerprint },
      ]);
      const d1Version = (await repository.get('d1'))!.version;

      await bind('d2', shared.pem); // binding stays allowed
      expect(await checks('d2')).toEqual([]); // the bind's transaction judges nothing shared
      await feed.settle();
      expect(await checks('d2')).toEqual(SHARED);
      // The first holder's finding opened as a change of its own: one version more.
      const d1 = (await repository.get('d1'))!;
      expect(d1.version).toBe(d1Version + 1);
      expect(findingsOf(d1).map((f) => `${f.slot}:${f.check}`)).toEqual(SHARED);
      expect(findingsOf(d1)[0]!.detail).toContain(fingerprints.sha256_fingerprint);
      expect(await events()).toEqual([
        'device.finding.open d1 shared-certificate',
        'device.finding.open d1 shared-key',
        'device.finding.open d2 shared-certificate',
        'device.finding.open d2 shared-key',
      ]);
      expect((await scan()).filter((i) => String(i.pk).startsWith('SHARED#'))).toEqual([]);
      expect((await posture.openCounts()).counts).toMatchObject({ 'shared-certificate': 2, 'shared-key': 2 });

      // Another certificate over the same key pair: only the key is shared.
      await bind('d3', (await certificate({ ...validity, keys: shared.keys })).pem);
      await feed.settle();
      expect(await checks('d3')).toEqual(['identity:shared-key']);

      // d2 re-binds a key of its own: the certificate is d1's alone again; the key is still d3's too.
      await bind('d2', (await certificate(validity)).pem);
      await feed.settle();
      expect(await checks('d2')).toEqual([]);
      expect(await checks('d1')).toEqual(['identity:shared-key']);
      expect((await events()).filter((e) => e.includes('resolve'))).toEqual([
        'device.finding.resolve d1 shared-certificate',
        'device.finding.resolve d2 shared-certificate',
        'device.finding.resolve d2 shared-key',
      ]);

      // d3 revokes: d1 is the key's only holder, its last finding resolves; the index drops d3.
      await service.revoke('d3', 'identity', 'KeyCompromise');
      await feed.settle();
      expect(await checks('d3')).toEqual([]);
      expect(await checks('d1')).toEqual([]);
      expect((await posture.keyHolders(fingerprints.public_key_sha256)).map((h) => h.device)).toEqual(['d1']);
      await service.decommission('d1');
      expect(await posture.keyHolders(fingerprints.public_key_sha256)).toEqual([]);
    } finally {
      await feed.stop();
    }
  });

  it('concurrent binds of one certificate all end with the finding once the stream is applied', async () => {
    const { service, bind, checks, walk, stream } = await setup();
    await walk();
    const feed = stream();
    try {
      const ids = ['a', 'b', 'c', 'd', 'e'];
      for (const id of ids) await service.register({ id, dms_id: 'dms' });
      const shared = await certificate(validity);
      await Promise.all(ids.map((id) => bind(id, shared.pem)));
      await feed.settle();
      for (const id of ids) expect(await checks(id)).toEqual(SHARED);
      // Two of them move away at once: the three that stay keep it, the two have none.
      await Promise.all(['a', 'b'].map(async (id) => bind(id, (await certificate(validity)).pem)));
      await feed.settle();
      expect(await Promise.all(ids.map(checks))).toEqual([[], [], SHARED, SHARED, SHARED]);
    } finally {
      await feed.stop();
    }
  });

  it('registers devices of an earlier release by the back-fill, which deletes their holder items', async () => {
    const { table, posture, repository, service, bind, checks, scan, walk, stream } = await setup();
    await walk();
    // The feed starts after x1 is made a device of the earlier release (it delivers what follows).
    let feed: ReturnType<typeof stream> | undefined;
    try {
      for (const id of ['x1', 'x2']) await service.register({ id, dms_id: 'dms' });
      const shared = await certificate(validity);
      const { sha256_fingerprint, public_key_sha256 } = parseCertificate(shared.pem);
      await bind('x1', shared.pem);
      // x1 as a device of the earlier release: not in the holder index, counted in a holder item (`sh`).
      const TableName = table.tableName;
      const db = table.documentClient;
      const legacy = [holdingKey('certificate', sha256_fingerprint), holdingKey('key', public_key_sha256)];
      await db.send(
        new UpdateCommand({
          TableName,
          Key: deviceKey('x1'),
          UpdateExpression: 'SET mk = :mk, sh = :sh',
          ExpressionAttributeValues: { ':mk': ',@cert-entries,@forecast,@inventory,', ':sh': JSON.stringify(legacy) },
        }),
      );
      await db.send(
        new UpdateCommand({
          TableName,
          Key: slotVersionKey('x1', 'identity', (await repository.get('x1'))!.identity!.active_version),
          UpdateExpression: 'REMOVE hk, hs',
        }),
      );
      for (const key of legacy)
        await db.send(new PutCommand({ TableName, Item: { ...sharedHoldersKey(key), kind: 'shared-holders', n: 1 } }));
      await db.send(new DeleteCommand({ TableName, Key: indexStateKey('@holders') }));
      expect(await posture.ready()).toBe(false);
      feed = stream();

      await bind('x2', shared.pem);
      await feed.settle();
      expect(await checks('x2')).toEqual([]); // x1 is not in the index yet
      await walk(); // the back-fill registers x1: the reconciler sees both
      await feed.settle();
      expect(await checks('x1')).toEqual(SHARED);
      expect(await checks('x2')).toEqual(SHARED);
      expect((await scan()).filter((i) => String(i.pk).startsWith('SHARED#') || i.sh !== undefined)).toEqual([]);
      const page = await posture.findings('shared-certificate', 10);
      expect(page.list.map((r) => r.device_id)).toEqual(['x1', 'x2']);
    } finally {
      await feed?.stop();
    }
  });
});

describe('shared findings with index lag (the holder index read before it shows a bind)', () => {
  it('fails the batch until the index shows the moved device, then judges every holder', async () => {
    const lagging = await startTestEngine({ indexLagMs: 1000 });
    try {
      const stack = await postureStack(lagging);
      await stack.walk();
      const shared = createSharedFindings(stack.repository, stack.policies, stack.posture, stack.clock);
      let behind = 0;
      const feed = startCounters(
        stack.table,
        2,
        async (moves) => {
          try {
            return await shared.reconcile(moves);
          } catch (error) {
            if (error instanceof HolderIndexBehindError) behind++;
            throw error;
          }
        },
        100_000,
      ); // delivered again until the index shows it, as the deployed mapping retries
      try {
        const ids = ['l1', 'l2', 'l3'];
        for (const id of ids) await stack.service.register({ id, dms_id: 'dms' });
        const shared = await certificate(validity);
        await Promise.all(
          ids.map((id) =>
            stack.service.bind(id, 'identity', { type: 'x509', certificate: parseCertificate(shared.pem) }),
          ),
        );
        await feed.settle();
        for (const id of ids)
          expect(findingsOf((await stack.repository.get(id))!).map((f) => `${f.slot}:${f.check}`)).toEqual(SHARED);
        expect(behind).toBeGreaterThan(0); // the first delivery met the lag
      } finally {
        await feed.stop();
      }
    } finally {
      await lagging.stop();
    }
  });
});

describe('expires-after-issuer and certificate-too-old', () => {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = () => webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as Promise<webcrypto.CryptoKeyPair>;

  /** A CA (with a subject key id) expiring mid-2026, and a certificate it issued expiring after it. */
  async function chain() {
    const caKeys = await keys();
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '0a',
      name: 'CN=Retiring CA, O=posture tests',
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: new Date('2026-06-01T00:00:00Z'),
      keys: caKeys,
      signingAlgorithm: alg,
      extensions: [await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey)],
    });
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: '0b',
      subject: 'CN=device',
      issuer: ca.subject,
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2027-01-01T00:00:00Z'),
      publicKey: (await keys()).publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: alg,
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(ca, false)],
    });
    return { ca: ca.toString('pem'), leaf: leaf.toString('pem') };
  }

  it('is raised by the walk once the policy names the issuer, and a PEM that is no certificate is a 400', async () => {
    const { repository, service, bind, checks, walk, policy } = await setup();
    await walk();
    const { ca, leaf } = await chain();
    await service.register({ id: 'e1', dms_id: 'dms' });
    await bind('e1', leaf);
    expect(await checks('e1')).toEqual([]); // the issuer is not known yet
    await expect(
      policy.putPolicy({ ...DEFAULT_POSTURE_POLICY, issuer_certificates: ['not a pem'] }, 0),
    ).rejects.toBeInstanceOf(ValidationError);
    const stored = await policy.putPolicy({ ...DEFAULT_POSTURE_POLICY, issuer_certificates: [ca] }, 0);
    expect(stored.issuer_certificates).toHaveLength(1);
    await walk();
    const [finding] = findingsOf((await repository.get('e1'))!);
    expect(finding).toMatchObject({ check: 'expires-after-issuer', slot: 'identity' });
    expect(finding!.detail).toBe('expires 2027-01-01T00:00:00.000Z, after its issuer (2026-06-01T00:00:00.000Z)');
    // A CA of the same DN with another key did not issue it: nothing raised.
    const other = (await chain()).ca;
    await policy.putPolicy({ ...DEFAULT_POSTURE_POLICY, issuer_certificates: [other] }, 1);
    await walk();
    expect(await checks('e1')).toEqual([]);
  });

  it('judges the certificate age at the bind, with the clock', async () => {
    const { service, bind, checks, walk, policy } = await setup();
    await walk();
    await policy.putPolicy({ ...DEFAULT_POSTURE_POLICY, max_certificate_age_days: 30 }, 0);
    await walk();
    for (const id of ['old', 'new']) await service.register({ id, dms_id: 'dms' });
    // The clock is 2026-03-15: 73 days after the first notBefore, 5 after the second.
    await bind('old', (await certificate(validity)).pem);
    await bind('new', (await certificate({ ...validity, notBefore: '2026-03-10T00:00:00Z' })).pem);
    expect(await checks('old')).toEqual(['identity:certificate-too-old']);
    expect(await checks('new')).toEqual([]);
  });
});
