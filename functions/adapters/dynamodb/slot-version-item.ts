/**
 * The stored layout of a slot version item (`SLOT#<slot>#<version>`), written and read only here
 * (docs/data-model.md, Slot version items).
 *
 * Compact layout: the certificate's DER is the binary attribute `der`, and `doc` is the version's JSON
 * without what the DER gives back (the PEM and the certificate's SHA-256 fingerprint) and what the
 * item's key gives back (device id, slot, version). The PEM in JSON (base64 with escaped newlines)
 * and a hex fingerprint are about twice the DER's bytes: an EC-P256 identity's version item with its
 * index attributes stays under a kilobyte, one write unit (docs/benchmarks.md, write units of a
 * bind). The public key's SHA-256 stays in `doc`: deriving it needs a certificate parse on every read.
 *
 * Earlier layout (items written by earlier releases, and any version the compact one would not give
 * back byte for byte): the whole version as JSON in `doc`, no `der`. Both read back to the same
 * SlotVersion, so API answers, events and outbox records do not depend on the layout.
 */
import type { ParsedCertificate } from '../../domain/certificate';
import { derToPem, normaliseSerial, pemToDer, sha256Hex } from '../../domain/certificate';
import type { SlotVersion } from '../../domain/slots';
import { parseSlotVersionKey, slotVersionKey } from './keys';

type Item = Record<string, unknown>;

/** The version fields the item's key gives back (a compact `doc` leaves them out). */
type KeyFields = 'device_id' | 'slot' | 'version';

/** Binary attribute of a slot version item: its certificate's DER (compact layout only). */
export const DER_ATTRIBUTE = 'der';

/** The certificate fields a compact `doc` keeps (the PEM and the fingerprint come from the DER). */
type StoredCertificate = Omit<ParsedCertificate, 'pem' | 'sha256_fingerprint'>;

/** The serial an x509 version is found by (serial index): its certificate's, or the one it was bound by. */
function indexedSerial(version: SlotVersion): string | undefined {
  if (version.certificate) return version.certificate.serial_number;
  return version.type === 'x509' && version.serial_number ? normaliseSerial(version.serial_number) : undefined;
}

/** Bytes from the SDK (a Uint8Array), or base64 text from a stream image (as a Lambda stream event gives them). */
const derOf = (value: unknown): Uint8Array | undefined =>
  value instanceof Uint8Array ? value : typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;

/** The version of a stored item, in either layout: the one function every reader of a version item goes through. */
export function parseVersionItem(item: Item): SlotVersion {
  const doc = JSON.parse(item.doc as string) as SlotVersion;
  const der = derOf(item[DER_ATTRIBUTE]);
  const key = parseSlotVersionKey(item);
  if (!der || !key || !doc.certificate) return doc;
  const { serial_number, issuer, subject, not_before, not_after, public_key_sha256 } =
    doc.certificate as StoredCertificate;
  // SlotVersion's and parseCertificate's field order, so the version serializes exactly as before it was stored.
  return {
    device_id: key.deviceId,
    slot: key.slot,
    version: key.version,
    ...(doc as Omit<SlotVersion, KeyFields>),
    certificate: {
      pem: derToPem(der),
      serial_number,
      issuer,
      subject,
      not_before,
      not_after,
      sha256_fingerprint: sha256Hex(der),
      public_key_sha256,
    },
  };
}

/**
 * `doc` and `der` of a version: compact when the certificate's PEM is the DER's normalised form and
 * the compact item reads back to the same JSON, else the whole version in `doc` (nothing is lost).
 */
function storedLayout(version: SlotVersion): { doc: string; der?: Buffer } {
  const whole = JSON.stringify(version);
  const certificate = version.certificate;
  const der = certificate ? pemToDer(certificate.pem) : undefined;
  if (!certificate || !der) return { doc: whole };
  const { device_id: _id, slot: _slot, version: _version, ...rest } = version;
  const { pem: _pem, sha256_fingerprint: _fingerprint, ...kept } = certificate;
  const compact = { doc: JSON.stringify({ ...rest, certificate: kept }), [DER_ATTRIBUTE]: der };
  const key = slotVersionKey(version.device_id, version.slot, version.version);
  return JSON.stringify(parseVersionItem({ ...key, ...compact })) === whole ? compact : { doc: whole };
}

/** The item of a slot version (without index attributes; device-writes.ts adds those). */
export function versionItem(version: SlotVersion): Item {
  const serial = indexedSerial(version);
  return {
    ...slotVersionKey(version.device_id, version.slot, version.version),
    kind: 'slot-version',
    ...(serial ? { serial } : {}),
    ...storedLayout(version),
  };
}

/**
 * The condition that a version item is still `previous`, in the layout it was read in: the earlier
 * layout's `doc` is the whole version, the compact one's is the compact `doc` with the same DER.
 */
export function storedVersionCondition(previous: SlotVersion): {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Item;
} {
  const { doc, der } = storedLayout(previous);
  const whole = JSON.stringify(previous);
  if (!der)
    return {
      ConditionExpression: '#doc = :whole',
      ExpressionAttributeNames: { '#doc': 'doc' },
      ExpressionAttributeValues: { ':whole': whole },
    };
  return {
    ConditionExpression: '#doc = :whole OR (#doc = :doc AND #der = :der)',
    ExpressionAttributeNames: { '#doc': 'doc', '#der': DER_ATTRIBUTE },
    ExpressionAttributeValues: { ':whole': whole, ':doc': doc, ':der': der },
  };
}
