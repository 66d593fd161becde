/**
 * docs/api.md, Limits and edges: no event of a valid device exceeds EventBridge's 256 KB entry limit. The largest valid
 * device (every field at its limit, with the widest UTF-8 characters allowed) goes through every
 * device event type, each measured as the PutEvents entry the publisher sends, sized as EventBridge
 * sizes it.
 */
import { newDevice, shadowOf, type Device } from '../../../functions/domain/device';
import { parseCertificate } from '../../../functions/domain/certificate';
import { deviceCreated, deviceUpdated, type OutboxEvent } from '../../../functions/domain/outbox';
import { applyShadowPatch, MERGE_PATCH } from '../../../functions/domain/patch';
import { policyWindows, defaultPolicy } from '../../../functions/domain/policy';
import { createDeviceSchema, MAX_METADATA_BYTES, MAX_TAGS } from '../../../functions/domain/schemas';
import { bindSlotSchema } from '../../../functions/domain/slot-schemas';
import {
  bindSlot,
  decommissionDevice,
  INLINE_SECRET_LIMIT,
  MAX_EXTRA_SLOTS,
  refreshSlots,
  revokeSlot,
  type SlotMutation,
} from '../../../functions/domain/slots';
import { toCloudEvent } from '../../../functions/app/publish';
import { entrySize, MAX_REQUEST_BYTES, toEntry } from '../../../functions/adapters/eventbridge/event-publisher';
import { certificate } from '../../support/certificates';

/** The longest `Source` EVENT_SOURCE accepts. */
const SOURCE = 'a'.repeat(256);
const WIDE = '\u20ac'; // 3 UTF-8 bytes per UTF-16 unit: the most a counted character can take
const policy = policyWindows(defaultPolicy('d', { preventive_delta: '60d', critical_delta: '14d' }));
let ids = 0;
const newId = () => `00000000-0000-4000-8000-${String(ids++).padStart(12, '0')}`;

/** Metadata of exactly MAX_METADATA_BYTES compact UTF-8 bytes. */
function largestMetadata(): Record<string, string> {
  const metadata: Record<string, string> = { k: '' };
  const size = () => Buffer.byteLength(JSON.stringify(metadata));
  metadata.k = WIDE.repeat(Math.floor((MAX_METADATA_BYTES - size()) / 3));
  metadata.k += 'x'.repeat(MAX_METADATA_BYTES - size());
  return metadata;
}

const sizes: Record<string, number> = {};
function measure(events: OutboxEvent[]): void {
  for (const e of events) {
    const bytes = entrySize(toEntry(toCloudEvent(e, SOURCE), 'bus'));
    sizes[e.type] = Math.max(sizes[e.type] ?? 0, bytes);
  }
}

it('every event of the largest valid device fits one PutEvents entry', async () => {
  let now = new Date('2026-03-15T10:00:00.000Z');
  const tick = () => (now = new Date(now.getTime() + 1000));
  const input = createDeviceSchema.parse({
    id: 'd'.repeat(128),
    dms_id: 'm'.repeat(128),
    tags: Array.from({ length: MAX_TAGS }, (_, i) => `${i}`.padEnd(128, WIDE)),
    metadata: largestMetadata(),
    icon: WIDE.repeat(64),
    icon_color: '#25ee32ff-#f0f8ffff', // the longest form: a colour-background pair of 8-digit colours
  });
  const { device: created, event } = newDevice({ ...input, metadata: input.metadata as Record<string, string> }, now);
  let device: Device = created;
  measure([deviceCreated(newId(), device, event.timestamp)]);
  const apply = (m: SlotMutation | undefined) => {
    if (!m) throw new Error('expected a change');
    measure(m.outbox);
    device = m.after;
  };

  // The identity: 25 renewals with a 20-octet serial fill its inline events and secrets.
  const keys = (await certificate({ notAfter: '2027-03-15T00:00:00Z' })).keys;
  for (let v = 0; v < 25; v++) {
    const serial = `7${String(v).padStart(39, 'f')}`;
    const parsed = parseCertificate(
      (await certificate({ keys, serial, notAfter: '2027-03-15T00:00:00Z', subject: `CN=${'s'.repeat(200)}` })).pem,
    );
    expect(parsed.serial_number).toHaveLength(40);
    apply(
      bindSlot({
        device,
        slot: 'identity',
        material: { type: 'x509', certificate: parsed },
        policy,
        now: tick(),
        ids: newId,
      }),
    );
  }
  // Every extra slot, with the longest name and secret, bound and revoked until its inline maps are full.
  for (let s = 0; s < MAX_EXTRA_SLOTS; s++) {
    const slot = `${s}`.padEnd(128, 'n');
    for (let v = 0; v < 12; v++) {
      const body = bindSlotSchema.parse({
        type: 'TOKEN',
        secret: `${v}`.padEnd(4096, '~'),
        expiration_date: '2026-06-01T00:00:00Z',
      });
      if (!('secret' in body)) throw new Error('expected a secret');
      apply(
        bindSlot({
          device,
          slot,
          material: { type: body.type, secret: body.secret, expiration_date: body.expiration_date },
          policy,
          now: tick(),
          ids: newId,
        }),
      );
      apply(revokeSlot({ device, slot, reason: 'AffiliationChanged', policy, now: tick(), ids: newId }));
    }
    expect(Object.keys(device.slots[slot]!.secrets)).toHaveLength(INLINE_SECRET_LIMIT);
  }
  expect(() =>
    bindSlot({
      device,
      slot: 'one-too-many',
      material: { type: 'OTHER', secret: 'x' },
      policy,
      now: tick(),
      ids: newId,
    }),
  ).toThrow('extra slots');

  // device.update: the whole shadow replaced by another at the limits.
  const shadow = applyShadowPatch(shadowOf(device), MERGE_PATCH, {
    tags: input.tags!.map((t) => t.replace(/^\d+/, 'z')),
    metadata: { k: null, j: largestMetadata().k!.slice(1) },
  });
  const updated: Device = { ...device, ...shadow, version: device.version + 1 };
  measure([deviceUpdated(newId(), device, updated, now.toISOString())]);
  device = updated;

  // device.status.update: time passes into the renewal windows.
  const later = refreshSlots(device, policy, new Date('2027-02-01T00:00:00.000Z'), newId);
  apply(later.mutation);

  // device.decommission: the whole device before and after.
  apply(decommissionDevice(device, undefined, policy, tick(), newId));

  expect(Object.keys(sizes).sort()).toEqual([
    'device.create',
    'device.decommission',
    'device.identity.update',
    'device.slot.update',
    'device.status.update',
    'device.update',
  ]);
  for (const [type, bytes] of Object.entries(sizes)) expect([type, bytes <= MAX_REQUEST_BYTES]).toEqual([type, true]);
  console.log(`largest entries (bytes, limit ${MAX_REQUEST_BYTES}): ${JSON.stringify(sizes)}`);
});
