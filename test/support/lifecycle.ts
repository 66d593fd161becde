/** Shared by the lifecycle tests: the device service on the real adapters, binds by reference, item size. */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { bookmarkCodec } from '../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../functions/adapters/dynamodb/device-repository';
import { LIFECYCLE_ATTRIBUTE } from '../../functions/adapters/dynamodb/device-writes';
import { deviceKey } from '../../functions/adapters/dynamodb/keys';
import { policyRepository } from '../../functions/adapters/dynamodb/policy-repository';
import { deviceService } from '../../functions/app/devices';
import { INLINE_EVENT_LIMIT } from '../../functions/domain/device';
import { LIFECYCLE_MAX_BYTES } from '../../functions/domain/lifecycle';
import { MERGE_PATCH } from '../../functions/domain/patch';
import { IDENTITY_SLOT } from '../../functions/domain/slots';
import { toLamassuDevice } from '../../functions/lamassu/model';
import { settledCounters, testClock, type TestTable } from './dynamo';

export function lifecycleSetup(table: TestTable) {
  const clock = testClock();
  const repository = settledCounters(
    deviceRepository({
      client: table.documentClient,
      tableName: table.tableName,
      listShards: 2,
      statsShards: 3,
      bookmarks: bookmarkCodec('k'),
    }),
    table,
    3,
  );
  const policies = policyRepository({
    client: table.documentClient,
    tableName: table.tableName,
    bookmarks: bookmarkCodec('k'),
  });
  return { clock, repository, devices: deviceService({ devices: repository, policies, clock, newId: randomUUID }) };
}

export const DAY = 86_400_000;
/** A certificate bound by reference, as Lamassu's RA binds: serial and expiration; RENEWED when the key is kept. */
export const byReference = (n: number, now: Date, sameKey = true) => ({
  type: 'x509' as const,
  serial_number: (0x1000 + n).toString(16),
  expiration_date: new Date(now.getTime() + 90 * DAY).toISOString(),
  same_key: sameKey,
});

/** DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers about their digits). */
export function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item))
    bytes +=
      Buffer.byteLength(name) + (typeof value === 'string' ? Buffer.byteLength(value) : String(value).length + 1);
  return bytes;
}

/**
 * Registers a device, provisions it, then `renewals` times: `updatesPerRenewal` metadata updates and
 * a renewal; then decommissions it. Checks the stored item and the Lamassu view: CREATED and every
 * renewal kept, no metadata update, no event in both maps, the item within 400 KB.
 */
export async function busyDeviceKeepsItsLifecycle(table: TestTable, renewals: number, updatesPerRenewal: number) {
  const { devices, repository, clock } = lifecycleSetup(table);
  await devices.register({ id: 'busy', dms_id: 'ra-1', icon_color: '#0f67ff-#F0F8FF' });
  await devices.bind('busy', IDENTITY_SLOT, byReference(0, clock.now(), false));
  for (let renewal = 1; renewal <= renewals; renewal++) {
    for (let update = 0; update < updatesPerRenewal; update++)
      await devices.patch('busy', MERGE_PATCH, { metadata: { counter: renewal * updatesPerRenewal + update } });
    clock.advance(DAY);
    await devices.bind('busy', IDENTITY_SLOT, byReference(renewal, clock.now()));
  }
  await devices.decommission('busy');

  const item = (await table.documentClient.send(new GetCommand({ TableName: table.tableName, Key: deviceKey('busy') })))
    .Item!;
  expect(itemBytes(item)).toBeLessThan(400 * 1024);
  expect(Buffer.byteLength(item[LIFECYCLE_ATTRIBUTE] as string)).toBeLessThanOrEqual(LIFECYCLE_MAX_BYTES);
  // The document (what /v2 serves and events carry) is unchanged: 20 inline events, no list.
  const doc = JSON.parse(item.doc as string) as Record<string, unknown>;
  expect(Object.keys(doc.events as object)).toHaveLength(INLINE_EVENT_LIMIT);
  expect(item.doc as string).not.toContain('New Active Version');

  const view = toLamassuDevice((await repository.get('busy'))!);
  const deviceEvents = Object.entries(view.events).sort(([a], [b]) => a.localeCompare(b));
  expect(deviceEvents[0]![1]).toEqual({ type: 'CREATED', description: '' });
  expect(deviceEvents.map(([, e]) => e.type)).toEqual(['CREATED', 'STATUS-UPDATED', 'DECOMMISSIONED']);
  expect(deviceEvents[1]![1]).toEqual({
    type: 'STATUS-UPDATED',
    description: "Status updated from 'NO_IDENTITY' to 'ACTIVE'",
  });
  const identityEvents = Object.entries(view.identity!.events).sort(([a], [b]) => a.localeCompare(b));
  expect(identityEvents[0]![1]).toEqual({ type: 'PROVISIONED', description: '' });
  const renewed = identityEvents.filter(([, e]) => e.type === 'RENEWED').map(([, e]) => e.description);
  expect(renewed).toEqual(Array.from({ length: renewals }, (_, i) => `New Active Version set to ${i + 1}`));
  expect(identityEvents.at(-1)![1]).toEqual({
    type: 'STATUS-UPDATED',
    description: "Identity Slot Status updated from 'DECOMMISSIONED' to 'REVOKED'",
  });
  // No event in both maps (Lamassu's dashboard merges them into one timeline), no metadata update.
  expect(Object.keys(view.events).filter((t) => Object.hasOwn(view.identity!.events, t))).toEqual([]);
  expect([...deviceEvents, ...identityEvents].filter(([, e]) => e.type === 'SHADOW-UPDATED')).toEqual([]);
  expect(view.icon_color).toBe('#0f67ff-#F0F8FF');
}
