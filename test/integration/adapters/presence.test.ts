/**
 * Presence over the real connectivity store and device repository (embedded engine): AWS IoT lifecycle
 * events become each device's connectivity beside it (no version bump), at most one write per device per
 * minute with the final state kept, stale events dropped; the `connected` list filter and the not-seen count.
 */
import { randomUUID } from 'node:crypto';
import type { Engine } from '@device-manager/local-engine';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { connectivityStore } from '../../../functions/adapters/dynamodb/connectivity-store';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { deviceService } from '../../../functions/app/devices';
import { presenceService } from '../../../functions/app/presence';
import { parseCertificate } from '../../../functions/domain/certificate';
import type { PresenceEvent } from '../../../functions/domain/connectivity';
import { IDENTITY_SLOT } from '../../../functions/domain/slots';
import { parseListQuery } from '../../../functions/http/list-query';
import { certificate } from '../../support/certificates';
import { freshTable, startTestEngine, testClock } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

async function setup() {
  const table = await freshTable(engine);
  const clock = testClock('2026-03-15T10:00:00.000Z');
  const bookmarks = bookmarkCodec('k');
  const repository = deviceRepository({
    client: table.documentClient,
    tableName: table.tableName,
    listShards: 2,
    statsShards: 2,
    bookmarks,
  });
  const policies = policyRepository({ client: table.documentClient, tableName: table.tableName, bookmarks });
  const devices = deviceService({ devices: repository, policies, clock, newId: randomUUID });
  const store = connectivityStore({ client: table.documentClient, tableName: table.tableName, listShards: 2 });
  const presence = presenceService({ store, clock });
  const ids = async (query: string) =>
    (await repository.list(parseListQuery(new URLSearchParams(query)))).list.map((d) => d.id).sort();
  return { clock, devices, store, presence, ids };
}

const at = (clock: { now(): Date }, offsetMs = 0) => clock.now().getTime() + offsetMs;
const event = (clientId: string, eventType: PresenceEvent['eventType'], timestamp: number): PresenceEvent => ({
  clientId,
  eventType,
  timestamp,
});

it('stores connectivity beside the device, once a minute at most, the last state kept, stale dropped', async () => {
  const { clock, devices, presence } = await setup();
  await devices.register({ id: 'cam.01', dms_id: 'dms-1' });
  const version = (await devices.get('cam.01'))!.version;

  const t0 = at(clock);
  // The client id may be the thing name (the sync maps `.` to `_`).
  expect(await presence.apply([event('cam_01', 'connected', t0)])).toEqual({
    written: 1,
    deferred: [],
    dropped: 0,
    unknown: [],
  });
  const iso = (ms: number) => new Date(ms).toISOString();
  expect(await presence.get('cam.01')).toMatchObject({ connected: true, since: iso(t0), last_seen: iso(t0) });
  // No version bump: the device is not changed.
  expect((await devices.get('cam.01'))!.version).toBe(version);

  // A flap within the minute: the newest event of the batch is the one decided; it waits for the minute.
  clock.advance(20_000);
  const flap = [event('cam.01', 'disconnected', t0 + 10_000), event('cam.01', 'connected', t0 + 15_000)];
  const disconnect = event('cam.01', 'disconnected', t0 + 20_000);
  expect(await presence.apply([...flap, disconnect])).toMatchObject({ written: 0, deferred: ['cam.01'] });
  expect(await presence.get('cam.01')).toMatchObject({ connected: true, last_seen: iso(t0) });
  // Delivered again after the minute: written; the older flap events then are stale.
  clock.advance(45_000);
  expect(await presence.apply([disconnect])).toMatchObject({ written: 1 });
  expect(await presence.apply(flap)).toMatchObject({ written: 0, dropped: 1 });
  expect(await presence.get('cam.01')).toMatchObject({
    connected: false,
    since: iso(t0 + 20_000),
    last_seen: iso(t0 + 20_000),
  });
  // A client that names no device is reported, not stored.
  expect(await presence.apply([event('ghost', 'connected', t0)])).toMatchObject({ unknown: ['ghost'] });
  expect(await presence.get('ghost')).toBeUndefined();
});

it('lists by connected (other filters on the device read), counts devices in service not seen for N days', async () => {
  const { clock, devices, presence, ids } = await setup();
  for (const id of ['a-1', 'a-2', 'a-3', 'a-4']) await devices.register({ id, dms_id: 'dms-1' });
  for (const id of ['a-1', 'a-2']) {
    const { pem } = await certificate({ notAfter: '2027-03-15T10:00:00Z' });
    await devices.bind(id, IDENTITY_SLOT, { type: 'x509', certificate: parseCertificate(pem) });
  }
  const t0 = at(clock);
  await presence.apply([event('a-1', 'connected', t0), event('a-2', 'connected', t0), event('a-3', 'connected', t0)]);
  clock.advance(61_000);
  await presence.apply([event('a-2', 'disconnected', t0 + 61_000), event('a-3', 'disconnected', t0 + 61_000)]);

  expect(await ids('filter=connected[eq]true')).toEqual(['a-1']);
  expect(await ids('filter=connected[eq]false')).toEqual(['a-2', 'a-3']);
  expect(await ids('filter=connected[eq]false&filter=status[eq]NO_IDENTITY')).toEqual(['a-3']);
  // a-2 revoked after its presence write: its entry's status is stale, the filter is decided on the device.
  await devices.revoke('a-2', IDENTITY_SLOT, 'KeyCompromise');
  expect(await ids('filter=connected[eq]false&filter=status[eq]REVOKED')).toEqual(['a-2']);
  expect(await ids('filter=connected[eq]false&sort_by=id&sort_mode=desc')).toEqual(['a-2', 'a-3']);
  expect(() => parseListQuery(new URLSearchParams('filter=connected[eq]yes'))).toThrow('invalid list parameters');
  expect(() =>
    parseListQuery(new URLSearchParams('filter=connected[eq]true&sort_by=identity.expiration_date')),
  ).toThrow('invalid list parameters');

  // Eight days on: a-2 (in service at its last presence change, disconnected) is the one not seen for 7 days;
  // a-3 never had an identity, a-1 is connected.
  clock.advance(8 * 86_400_000);
  expect(await presence.notSeenFor(7)).toBe(1);
  expect(await presence.notSeenFor(9)).toBe(0);
});
