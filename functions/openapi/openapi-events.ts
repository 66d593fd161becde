/**
 * The events (docs/api.md, Events on EventBridge) and the IoT sync (docs/api.md, AWS IoT Core registry sync), as the
 * `x-events` extension of the OpenAPI
 * document: what is published on the bus, what is consumed, and the choices the contract leaves open.
 */
import { CERTIFICATE_STATUS_DETAIL_TYPE, CERTIFICATE_STATUSES, REVOCATION_REASONS } from '../domain/slots';
import { DEFAULT_EVENT_SOURCE } from '../runtime/config';

const device = 'device/<id>';

export const EVENTS_DOCUMENT = {
  bus:
    "The stack's own EventBridge bus (CloudFormation output EventBusName, " +
    'named device-manager-<stage>), archived 90 days for replay.',
  source: `Source of every published entry: '${DEFAULT_EVENT_SOURCE}' unless the deployment sets eventSource.`,
  envelope: {
    description:
      'DetailType is the event type; Detail is a CloudEvents 1.0 ' +
      'JSON envelope. `id` is the outbox event id: stable across ' +
      'redeliveries, so subscribers de-duplicate on it. `time` is ' +
      "the time of the change (also the entry's Time).",
    example: {
      specversion: '1.0',
      id: '3f2b7c1e-8d4a-4f5e-9b1a-2c3d4e5f6a7b',
      source: DEFAULT_EVENT_SOURCE,
      type: 'device.status.update',
      subject: 'device/device-001',
      time: '2026-03-15T10:00:00.001Z',
      datacontenttype: 'application/json',
      data: { previous: { status: 'NO_IDENTITY' }, updated: { status: 'ACTIVE' } },
    },
  },
  published: [
    { type: 'device.create', subject: device, data: 'the device' },
    { type: 'device.update', subject: device, data: '{previous, updated}: tags, metadata, icon, icon_color' },
    {
      type: 'device.status.update',
      subject: device,
      data: '{previous: {status}, updated: {status}}; only when the status changes',
    },
    {
      type: 'device.identity.update',
      subject: device,
      data: '{previous, updated}: the identity slot (previous null on the first bind)',
    },
    { type: 'device.slot.update', subject: device, data: '{slot, previous, updated}: an extra slot' },
    { type: 'device.decommission', subject: device, data: '{previous, updated}: the whole device before and after' },
    {
      type: 'device.delete',
      subject: device,
      data: 'the device as it was (hard delete of a DECOMMISSIONED device through the Lamassu edge)',
    },
    {
      type: 'device-group.create | device-group.update | device-group.delete',
      subject: 'device-group/<id>',
      data: 'the group, or {previous, updated}',
    },
    { type: 'dms.update', subject: 'dms/<id>', data: '{previous, updated}' },
    {
      type: 'device.finding.open | device.finding.resolve',
      subject: device,
      data:
        '{device_id, check, slot, since, detail} (resolve adds resolved_at): in the same transaction as the ' +
        'change that opens or resolves the finding, or as the posture re-evaluation passes the device',
    },
    { type: 'job.create', subject: 'job/<id>', data: 'the job (docs/api.md, Remediation jobs)' },
    {
      type: 'job.status.update',
      subject: 'job/<id>',
      data: '{id, previous: {status}, updated: {status}, counts}: RUNNING, then SUCCEEDED, FAILED or CANCELLED',
    },
  ],
  lamassu: [
    'Setting lamassuEvents (LAMASSU_EVENTS=true): each device ' +
      "event is also published in Lamassu's type with source service/devmanager " +
      "and id '<event id>/lamassu': device.create, device.metadata.update " +
      '(from device.update), device.status.update, device.identity.update ' +
      "({previous, updated} whole devices in Lamassu's model) and " +
      'device.delete.',
    'With it, an identity revocation (decommission included) also ' +
      'publishes ca.certificate.revoke.request (subject certificate/<serial>, ' +
      "id '<event id>/revocation'): {serial_number, status: REVOKED, " +
      "revocation_reason, device_id}, the body of Lamassu's CA PUT " +
      '/api/ca/v1/certificates/{serial_number}/status; only for ' +
      'a certificate tied to the device (its PEM was bound, or the ' +
      'CA reported a status for it that was applied to this device), ' +
      'never for a serial bound by reference alone. See docs/lamassu-compatibility.md.',
  ],
  delivery: [
    'At least once, never lost: each event is written in the same ' +
      'DynamoDB transaction as its change (outbox) and published ' +
      'from the table stream.',
    'Order: the publisher keeps the order the table stream gives ' +
      "(a failed entry is retried before the same device's next " +
      'event is sent); DynamoDB Streams orders records per item ' +
      'only, and EventBridge does not order deliveries to targets: ' +
      'use `time` to order.',
    'PutEvents entries that fail with a retryable code (ThrottlingException, ' +
      'InternalFailure, ...) are re-sent with backoff, up to 6 sends; ' +
      'permanent failures and exhausted retries go to the publisher ' +
      'dead-letter queue with the reason.',
  ],
  consumed: {
    detail_type: CERTIFICATE_STATUS_DETAIL_TYPE,
    data:
      `detail.data.updated = {serial_number, status, revocation_reason?}; ` +
      `status one of ${CERTIFICATE_STATUSES.join(', ')} (any case); ` +
      `serial_number hex with or without ':' or '-' separators`,
    behaviour: [
      `Every stored slot version holding the serial follows the status. ` +
        `REVOKED revokes it (reason from detail.data.updated.revocation_reason, ` +
        `one of ${REVOCATION_REASONS.join(', ')}, else Unspecified).`,
      'ACTIVE releases a CertificateHold (other revocations are ' +
        'permanent); the slot status is then re-evaluated by the status ' +
        'rules. EXPIRED marks the slot EXPIRED once not_after is at ' +
        'most 5 minutes away (an earlier report is ignored: the status ' +
        'rules would undo it).',
      "Only the slot's active version changes the slot and device " +
        '(events, statistics, outbox, as through the API); a superseded ' +
        'version only has its stored version updated.',
      'A serial not found is retried (the serial index is eventually ' +
        'consistent: a version bound a moment ago may not be in it ' +
        'yet) every minute for unknownSerialRetrySeconds (default ' +
        '600) from when the event was queued; still not found, it ' +
        'belongs to no device: acknowledged and counted (metric UnknownSerials). ' +
        'An unreadable event is acknowledged at once.',
    ],
  },
  iot_sync: [
    'Off unless the deployment sets iotSync.enabled. Thing name: ' +
      "the device id with '.' mapped to '_'. Things get the stack's " +
      'thing type (searchable status and dms_owner), which allows ' +
      '50 attributes: status, dms_owner and up to 48 configured ' +
      'metadata keys.',
    'Attribute values: strings as they are, other JSON as text; ' +
      "characters outside [a-zA-Z0-9_.,@/:#=[]-] become '_', at " +
      'most 800 characters; a metadata key that is absent removes ' +
      'its attribute.',
    'The identity certificate (id = SHA-256 of its DER) is registered ' +
      'when AWS IoT does not know it (iotSync.certificateRegistration: ' +
      'without-ca by default, with-ca, none) and attached as the ' +
      "thing's principal; a superseded one is set INACTIVE (or REVOKED) " +
      'and detached. A revoked identity makes it REVOKED in AWS IoT ' +
      '(CertificateHold: INACTIVE, ACTIVE again on release); ' +
      'decommission makes it INACTIVE (or REVOKED, ' +
      'iotSync.decommissionCertificateStatus) and detaches it; the ' +
      'thing is kept with status DECOMMISSIONED. A REVOKED certificate ' +
      'is never re-activated. GET /v2/devices/{id} shows what the sync ' +
      'did as read-only `iot`.',
  ],
} as const;
