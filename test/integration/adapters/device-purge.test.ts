/**
 * The hard delete (DevicePurge + the deletion use case) on the real adapters and the embedded
 * engine: what goes, what stays for audit, the counters and the outbox, and the version race.
 */
import { outboxEventJson } from '../../../functions/adapters/dynamodb/outbox';
import { randomUUID } from 'node:crypto';
import { PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { deviceDeletion } from '../../../functions/app/device-deletion';
import { deviceService } from '../../../functions/app/devices';
import type { DevicePurge } from '../../../functions/app/ports';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { devicePurge, PURGE_RETENTION_DAYS } from '../../../functions/adapters/dynamodb/device-purge';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { deviceKey } from '../../../functions/adapters/dynamodb/keys';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { compileCriterion } from '../../../functions/domain/filters';
import {
  DeviceNotDecommissionedError,
  DeviceNotFoundError,
  VersionConflictError,
} from '../../../functions/domain/errors';
import { parseCertificate } from '../../../functions/domain/certificate';
import { IDENTITY_SLOT } from '../../../functions/domain/slots';
import type { Engine } from '@device-manager/local-engine';
import { certificate } from '../../support/certificates';
import { settledCounters, freshTable, startTestEngine, testClock, type TestTable } from '../../support/dynamo';
import { lifecycleSetup } from '../../support/lifecycle';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

function setup(table: TestTable) {
  const { clock, repository, devices } = lifecycleSetup(table);
  const purge = devicePurge({ client: table.documentClient, tableName: table.tableName, statsShards: 3 });
  const deletion = deviceDeletion({ devices: repository, purge, clock, newId: randomUUID });
  return { clock, repository, devices, purge, deletion };
}

async function itemsOf(table: TestTable, pk: string) {
  const out = await table.documentClient.send(new ScanCommand({ TableName: table.tableName }));
  return (out.Items ?? []).filter((i) => i.pk === pk);
}

async function outboxTypes(table: TestTable) {
  const out = await table.documentClient.send(new ScanCommand({ TableName: table.tableName }));
  return (out.Items ?? [])
    .filter((i) => i.kind === 'outbox')
    .map(
      (i) =>
        JSON.parse(outboxEventJson(i.event as Uint8Array)) as { type: string; subject: string; data: { id: string } },
    );
}

it(
  'deletes the device, its entries and its count; keeps events ' + 'and slot versions with a ttl; writes device.delete',
  async () => {
    const table = await freshTable(engine);
    const { devices, deletion, repository, clock } = setup(table);
    const tags = Array.from({ length: 50 }, (_, i) => `tag-${i}`);
    await devices.register({ id: 'gone', dms_id: 'dms-p', tags });
    await devices.register({ id: 'stays', dms_id: 'dms-p', tags: ['tag-0'] });
    const { pem } = await certificate({ notAfter: '2027-03-15T10:00:00Z' });
    await devices.bind('gone', IDENTITY_SLOT, { type: 'x509', certificate: parseCertificate(pem) });
    await devices.decommission('gone');
    expect((await repository.stats([])).status_distribution.DECOMMISSIONED).toBe(1);

    const before = await itemsOf(table, deviceKey('gone').pk);
    expect(before.filter((i) => String(i.sk).startsWith('ENTRY#')).length).toBe(52);
    await deletion.remove('gone');

    const after = await itemsOf(table, deviceKey('gone').pk);
    expect(after.map((i) => String(i.sk).split('#')[0]).sort()).toEqual(
      before
        .map((i) => String(i.sk).split('#')[0])
        .filter((p) => p === 'EVENT' || p === 'SLOT')
        .sort(),
    );
    const ttl = Math.floor(clock.now().getTime() / 1000) + PURGE_RETENTION_DAYS * 86_400;
    expect(after.every((i) => i.ttl === ttl)).toBe(true);
    expect(await repository.get('gone')).toBeUndefined();
    const stats = await repository.stats([]);
    expect(stats).toMatchObject({ total: 1, status_distribution: { DECOMMISSIONED: 0, NO_IDENTITY: 1 } });
    expect((await repository.stats([{ kind: 'string', field: 'dms_owner', op: 'eq', values: ['dms-p'] }])).total).toBe(
      1,
    );
    const listed = await repository.list({
      filters: [{ kind: 'tags', field: 'tags', op: 'ct', value: 'tag-0' }],
      sortBy: 'id',
      sortMode: 'asc',
      pageSize: 10,
    });
    expect(listed.list.map((d) => d.id)).toEqual(['stays']);
    const deleted = (await outboxTypes(table)).filter((e) => e.type === 'device.delete');
    expect(deleted).toEqual([
      expect.objectContaining({
        subject: 'device/gone',
        data: expect.objectContaining({ id: 'gone', status: 'DECOMMISSIONED' }),
      }),
    ]);
  },
);

it('refuses a device that is not decommissioned (422 class) and an unknown one, changing nothing', async () => {
  const table = await freshTable(engine);
  const { devices, deletion, repository } = setup(table);
  await devices.register({ id: 'live', dms_id: 'dms-p' });
  await expect(deletion.remove('live')).rejects.toThrow(DeviceNotDecommissionedError);
  await expect(deletion.remove('nope')).rejects.toThrow(DeviceNotFoundError);
  expect(await repository.get('live')).toMatchObject({ status: 'NO_IDENTITY' });
  expect((await outboxTypes(table)).map((e) => e.type)).toEqual(['device.create']);
});

it('a device changed since it was read is not purged (VersionConflictError); the use case reads again', async () => {
  const table = await freshTable(engine);
  const { devices, purge, repository, clock } = setup(table);
  await devices.register({ id: 'moving', dms_id: 'dms-p' });
  const decommissioned = await devices.decommission('moving');
  // Someone moves the stored version on (e.g. a CA report rewriting it).
  await table.documentClient.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: deviceKey('moving'),
      UpdateExpression: 'SET #v = :v',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':v': decommissioned.version + 1 },
    }),
  );
  await expect(purge.purge(decommissioned, [])).rejects.toThrow(VersionConflictError);
  expect(await itemsOf(table, deviceKey('moving').pk)).toEqual(
    expect.arrayContaining([expect.objectContaining({ sk: 'ENTRY#STATUS' })]),
  );

  let calls = 0;
  const flaky: DevicePurge = {
    purge: async (device, outbox) => {
      calls++;
      if (calls === 1) throw new VersionConflictError(device.id);
      return purge.purge({ ...device, version: decommissioned.version + 1 }, outbox);
    },
  };
  await deviceDeletion({ devices: repository, purge: flaky, clock, newId: randomUUID }).remove('moving');
  expect(calls).toBe(2);
  expect(await repository.get('moving')).toBeUndefined();
});

it('deletes more companions than one transaction holds (another entry layout), the device item last', async () => {
  const table = await freshTable(engine);
  const { devices, deletion, repository } = setup(table);
  await devices.register({ id: 'wide', dms_id: 'dms-p' });
  await devices.decommission('wide');
  for (let i = 0; i < 230; i++)
    await table.documentClient.send(
      new PutCommand({ TableName: table.tableName, Item: { pk: deviceKey('wide').pk, sk: `ENTRY#EXTRA#${i}` } }),
    );
  await deletion.remove('wide');
  const left = await itemsOf(table, deviceKey('wide').pk);
  expect(left.length).toBeGreaterThan(0);
  expect(left.every((i) => /^(EVENT|SLOT)#/.test(String(i.sk)))).toBe(true);
  expect(await repository.get('wide')).toBeUndefined();
});

it('takes the purged device out of the counters of its indexed metadata value too', async () => {
  const table = await freshTable(engine);
  const clock = testClock();
  const repository = settledCounters(
    deviceRepository({
      client: table.documentClient,
      tableName: table.tableName,
      listShards: 2,
      statsShards: 3,
      bookmarks: bookmarkCodec('k'),
      indexedMetadataKeys: ['fw'],
    }),
    table,
    3,
  );
  const policies = policyRepository({
    client: table.documentClient,
    tableName: table.tableName,
    bookmarks: bookmarkCodec('k'),
  });
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  const deletion = deviceDeletion({
    devices: repository,
    purge: devicePurge({ client: table.documentClient, tableName: table.tableName, statsShards: 3 }),
    clock,
    newId: randomUUID,
  });
  expect((await repository.backfillIndexes(Date.now() + 60_000, 50)).complete).toBe(true);
  await devices.register({ id: 'old-fw', dms_id: 'dms-p', metadata: { fw: '1.3.0' } });
  await devices.register({ id: 'old-fw-2', dms_id: 'dms-p', metadata: { fw: '1.3.0' } });
  await devices.decommission('old-fw');
  expect((await repository.metadataValues('fw', 10)).values).toEqual([
    { value: '"1.3.0"', stats: expect.objectContaining({ total: 2 }) },
  ]);

  await deletion.remove('old-fw');

  expect((await repository.metadataValues('fw', 10)).values).toEqual([
    {
      value: '"1.3.0"',
      stats: { total: 1, status_distribution: expect.objectContaining({ NO_IDENTITY: 1, DECOMMISSIONED: 0 }) },
    },
  ]);
  const byFirmware = compileCriterion({ field: 'metadata.fw', operand: 'eq', value: '1.3.0' }, 'filter').filter!;
  expect(await repository.stats([byFirmware])).toMatchObject({ total: 1 });
});
