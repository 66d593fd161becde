/**
 * Crypto profiles of slots bound before profiles existed (docs/data-model.md, The certificate
 * inventory): computed from the PEM of the slot's active version, once per device, by the inventory's
 * back-fill or by the device's first change since, whichever comes first.
 */
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { slotCryptoOf } from '../../domain/crypto-profile';
import type { Device, Slot } from '../../domain/device';
import { IDENTITY_SLOT } from '../../domain/slots';
import { slotVersionKey } from './keys';
import { parseVersionItem } from './slot-version-item';

/**
 * The device with a profile on each x509 slot that lacks one and whose active version holds a PEM;
 * undefined when no slot gained one (a serial bound alone has no profile to compute).
 */
export async function withSlotProfiles(
  client: DynamoDBDocumentClient,
  TableName: string,
  device: Device,
): Promise<Device | undefined> {
  const slots: [string, Slot | undefined][] = [[IDENTITY_SLOT, device.identity], ...Object.entries(device.slots)];
  let completed: Device | undefined;
  for (const [name, slot] of slots) {
    if (!slot || slot.type !== 'x509' || slot.crypto) continue;
    const out = await client.send(
      new GetCommand({ TableName, Key: slotVersionKey(device.id, name, slot.active_version), ConsistentRead: true }),
    );
    const certificate = typeof out.Item?.doc === 'string' ? parseVersionItem(out.Item).certificate : undefined;
    if (!certificate) continue;
    const profiled = { ...slot, crypto: slotCryptoOf(certificate) };
    completed ??= { ...device, slots: { ...device.slots } };
    if (name === IDENTITY_SLOT) completed.identity = profiled;
    else completed.slots[name] = profiled;
  }
  return completed;
}
