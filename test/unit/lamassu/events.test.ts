/**
 * Lamassu-typed events: the mapping of our outbox records (pure), and the publisher publishing the
 * derived events after their record, counting a record done only when all its events are.
 */
import { randomUUID } from 'node:crypto';
import { REVOCATION_REQUEST_TYPE } from '../../../functions/domain/slots';
import { lamassuEventsOf, LAMASSU_EVENT_SOURCE } from '../../../functions/lamassu/events';
import type { CloudEvent, DeadLetter, EventPublisher, PublishOutcome } from '../../../functions/app/ports';
import { outboxPublisher } from '../../../functions/app/publish';
import { newDevice, type Device, type Slot } from '../../../functions/domain/device';
import type { OutboxEvent } from '../../../functions/domain/outbox';

const now = new Date('2026-03-15T10:00:00.000Z');
const base: Device = newDevice({ id: 'cam-1', dms_id: 'dms-1', metadata: { fw: '1.0' } }, now).device;
const slot = (status: Slot['status'], serial = 'a1b2c'): Slot => ({
  status,
  active_version: 0,
  type: 'x509',
  secrets: { '0': serial },
  expiration_date: '2027-03-15T10:00:00.000Z',
  events: {},
});
const withIdentity = (status: Slot['status'], deviceStatus: Device['status']): Device => ({
  ...base,
  status: deviceStatus,
  identity: slot(status),
  version: 3,
});
const record = (
  type: OutboxEvent['type'],
  data: unknown,
  devices?: OutboxEvent['devices'],
  caRevocation?: OutboxEvent['caRevocation'],
): OutboxEvent => ({
  id: 'evt-1',
  type,
  subject: 'device/cam-1',
  time: now.toISOString(),
  data,
  ...(devices ? { devices } : {}),
  ...(caRevocation ? { caRevocation } : {}),
});
const tied = { serial_number: 'a1b2c' };

describe('lamassuEventsOf', () => {
  it(
    'device.create and device.delete: Lamassu devices (versions ' +
      'map, whole-byte serials), source service/devmanager',
    () => {
      const [created] = lamassuEventsOf(record('device.create', withIdentity('ACTIVE', 'ACTIVE')));
      expect(created).toMatchObject({
        id: 'evt-1/lamassu',
        source: LAMASSU_EVENT_SOURCE,
        type: 'device.create',
        subject: 'device/cam-1',
        data: { id: 'cam-1', identity: { versions: { '0': '0a1b2c' } } },
      });
      expect(created!.data).not.toHaveProperty('version');
      expect(lamassuEventsOf(record('device.delete', base)).map((e) => e.type)).toEqual(['device.delete']);
    },
  );

  it('metadata, status and identity updates carry full devices, and only when the record has them', () => {
    const after = { ...base, metadata: { fw: '2.0' }, version: 2 };
    const [meta] = lamassuEventsOf(record('device.update', {}, { previous: base, updated: after }));
    expect(meta).toMatchObject({
      type: 'device.metadata.update',
      data: { previous: { metadata: { fw: '1.0' } }, updated: { metadata: { fw: '2.0' } } },
    });
    expect(lamassuEventsOf(record('device.update', {}))).toEqual([]);
    const [status] = lamassuEventsOf(
      record(
        'device.status.update',
        { previous: { status: 'NO_IDENTITY' }, updated: { status: 'ACTIVE' } },
        { previous: base, updated: withIdentity('ACTIVE', 'ACTIVE') },
      ),
    );
    expect(status).toMatchObject({
      type: 'device.status.update',
      data: { previous: { status: 'NO_IDENTITY' }, updated: { status: 'ACTIVE', identity: { status: 'ACTIVE' } } },
    });
    expect(lamassuEventsOf(record('device.decommission', {}))).toEqual([]);
    expect(lamassuEventsOf(record('device-group.create', {}))).toEqual([]);
  });

  it(
    'an identity revocation asks the CA to revoke: CessationOfOperation ' + 'on decommission, Unspecified otherwise',
    () => {
      const decommissioned = withIdentity('REVOKED', 'DECOMMISSIONED');
      const events = lamassuEventsOf(
        record(
          'device.identity.update',
          { previous: slot('ACTIVE'), updated: slot('REVOKED') },
          { previous: withIdentity('ACTIVE', 'ACTIVE'), updated: decommissioned },
          tied,
        ),
      );
      expect(events.map((e) => e.type)).toEqual(['device.identity.update', REVOCATION_REQUEST_TYPE]);
      expect(events[1]).toMatchObject({
        id: 'evt-1/revocation',
        subject: 'certificate/0a1b2c',
        data: {
          serial_number: '0a1b2c',
          status: 'REVOKED',
          revocation_reason: 'CessationOfOperation',
          device_id: 'cam-1',
        },
      });
      const plain = lamassuEventsOf(
        record('device.identity.update', { previous: slot('ACTIVE'), updated: slot('REVOKED') }, undefined, tied),
      );
      expect(plain).toEqual([
        expect.objectContaining({
          type: REVOCATION_REQUEST_TYPE,
          data: expect.objectContaining({ revocation_reason: 'Unspecified' }),
        }),
      ]);
      // A bind, or an already revoked slot, asks nothing.
      expect(
        lamassuEventsOf(record('device.identity.update', { previous: null, updated: slot('ACTIVE') })).map(
          (e) => e.type,
        ),
      ).toEqual([]);
      expect(
        lamassuEventsOf(
          record('device.identity.update', { previous: slot('REVOKED'), updated: slot('REVOKED') }, undefined, tied),
        ),
      ).toEqual([]);
    },
  );

  it(
    'asks nothing for a certificate the record does not tie to ' +
      'the device (bound by reference), or ties to another serial',
    () => {
      const revoked = { previous: slot('ACTIVE'), updated: slot('REVOKED') };
      expect(lamassuEventsOf(record('device.identity.update', revoked)).map((e) => e.type)).toEqual([]);
      expect(
        lamassuEventsOf(record('device.identity.update', revoked, undefined, { serial_number: 'ffff' })).map(
          (e) => e.type,
        ),
      ).toEqual([]);
      // The same serial in Lamassu's whole-byte form is the same certificate.
      expect(
        lamassuEventsOf(record('device.identity.update', revoked, undefined, { serial_number: '0A1B2C' })).map(
          (e) => e.type,
        ),
      ).toEqual([REVOCATION_REQUEST_TYPE]);
    },
  );
});

describe('the publisher with derived events', () => {
  function bus(fail: (e: CloudEvent) => PublishOutcome | undefined) {
    const sent: CloudEvent[][] = [];
    const publisher: EventPublisher = {
      publish: async (events) => (sent.push([...events]), events.map((e) => fail(e) ?? { ok: true as const })),
    };
    return { sent, publisher };
  }

  it('publishes each record then its derived events, in order per subject', async () => {
    const { sent, publisher } = bus(() => undefined);
    const letters: DeadLetter[] = [];
    const pub = outboxPublisher({
      bus: publisher,
      deadLetters: { send: async (l) => void letters.push(l) },
      source: 'device-manager',
      derive: lamassuEventsOf,
    });
    const create = { ...record('device.create', base), id: randomUUID() };
    const report = await pub.publish([{ position: '1', event: create }]);
    expect(report).toMatchObject({ published: 2, failed: [], deadLettered: 0 });
    expect(sent.map((req) => req.map((e) => `${e.source} ${e.type}`))).toEqual([
      ['device-manager device.create'],
      ['service/devmanager device.create'],
    ]);
  });

  it('a record is not done until its derived events are: a failed dead-letter reports the position again', async () => {
    const { publisher } = bus((e) =>
      e.source === LAMASSU_EVENT_SOURCE
        ? { ok: false, code: 'ValidationException', message: 'no', retryable: false }
        : undefined,
    );
    const pub = outboxPublisher({
      bus: publisher,
      deadLetters: { send: async () => Promise.reject(new Error('queue down')) },
      source: 'device-manager',
      derive: lamassuEventsOf,
    });
    const report = await pub.publish([{ position: '7', event: record('device.delete', base) }]);
    expect(report).toMatchObject({ published: 1, failed: ['7'] });
  });
});
