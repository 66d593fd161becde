/**
 * Lamassu-typed events (setting lamassuEvents), derived by the publisher from our outbox records so
 * Lamassu's consumers (its AWS IoT connector, alerts, a CA connector) can follow this registry:
 * source `service/devmanager`, Lamassu's event types and full Lamassu devices in the data.
 *
 * Also the revocation request a Lamassu CA connector acts on: when an identity certificate is
 * revoked here (identity revoke, decommission), `ca.certificate.revoke.request` carries Lamassu's
 * UpdateCertificateStatusBody (`{status: REVOKED, revocation_reason}`) with the serial, ready for
 * `PUT /api/ca/v1/certificates/{serial_number}/status` of Lamassu's CA, so its CRL and OCSP stop
 * answering "good" for a decommissioned device.
 */
import type { Device, Slot } from '../domain/device';
import type { OutboxEvent } from '../domain/outbox';
import { REVOCATION_REQUEST_TYPE } from '../domain/slots';
import { lamassuSerial, toLamassuDevice } from './model';
import type { CloudEvent } from '../app/ports';

export const LAMASSU_EVENT_SOURCE = 'service/devmanager';

const envelope = (
  event: OutboxEvent,
  suffix: string,
  type: string,
  data: unknown,
  subject = event.subject,
): CloudEvent => ({
  specversion: '1.0',
  id: `${event.id}/${suffix}`,
  source: LAMASSU_EVENT_SOURCE,
  type,
  subject,
  time: event.time,
  datacontenttype: 'application/json',
  data,
});

const lamassu = (device: Device | null | undefined) => (device ? toLamassuDevice(device) : null);

/** `{previous, updated}` of full Lamassu devices, when the record has the snapshots. */
function update(event: OutboxEvent, type: string): CloudEvent[] {
  if (!event.devices) return [];
  return [
    envelope(event, 'lamassu', type, {
      previous: lamassu(event.devices.previous),
      updated: lamassu(event.devices.updated),
    }),
  ];
}

/**
 * The revocation request of an identity update that revoked the active certificate, only when the
 * record names it as one the service can tie to the device (`caRevocation`: the PEM was bound, or the
 * CA reported it for this device). A serial bound by reference alone is never sent: anyone allowed
 * to bind could otherwise have the service's CA credential revoke any certificate of the CA.
 */
function revocation(event: OutboxEvent): CloudEvent[] {
  const { previous, updated } = (event.data ?? {}) as { previous?: Slot | null; updated?: Slot | null };
  if (!updated || updated.status !== 'REVOKED' || previous?.status === 'REVOKED' || updated.type !== 'x509') return [];
  const serial = updated.secrets[String(updated.active_version)];
  if (!serial || !event.caRevocation || normalised(event.caRevocation.serial_number) !== normalised(serial)) return [];
  const decommissioned = event.devices?.updated?.status === 'DECOMMISSIONED';
  const data = {
    serial_number: lamassuSerial(serial),
    status: 'REVOKED',
    revocation_reason: decommissioned ? 'CessationOfOperation' : 'Unspecified',
    device_id: event.subject.replace(/^device\//, ''),
  };
  return [envelope(event, 'revocation', REVOCATION_REQUEST_TYPE, data, `certificate/${data.serial_number}`)];
}

const normalised = (serial: string) => lamassuSerial(serial).toLowerCase();

/** The Lamassu events of one outbox record (none for group and DMS events, extra slots, decommission). */
export function lamassuEventsOf(event: OutboxEvent): CloudEvent[] {
  switch (event.type) {
    case 'device.create':
    case 'device.delete':
      return [envelope(event, 'lamassu', event.type, lamassu(event.data as Device))];
    case 'device.update':
      return update(event, 'device.metadata.update');
    case 'device.status.update':
      return update(event, 'device.status.update');
    case 'device.identity.update':
      return [...update(event, 'device.identity.update'), ...revocation(event)];
    default:
      return [];
  }
}
