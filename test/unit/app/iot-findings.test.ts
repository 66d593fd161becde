/**
 * `revoked-still-active-in-iot`: the rule a device change applies (domain/iot-findings.ts), and the
 * IoT sync's resolution with the real IoT adapter on a mocked IoTClient (exact parameters): resolved
 * only after AWS IoT took the certificate out of service, never after a failed call, and for the
 * device version the sync brought AWS IoT to (a device that moved meanwhile is synced again first).
 */
import {
  DescribeCertificateCommand,
  DescribeThingCommand,
  DetachThingPrincipalCommand,
  InvalidRequestException,
  IoTClient,
  UpdateCertificateCommand,
  UpdateThingCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { iotRegistry } from '../../../functions/adapters/iot/iot-registry';
import { iotSync } from '../../../functions/app/iot-sync';
import type { Device, Slot } from '../../../functions/domain/device';
import { type DeviceFinding, withFindings } from '../../../functions/domain/findings';
import { IOT_CHECK, retiredInIot, withIotFinding } from '../../../functions/domain/iot-findings';
import type { SlotVersion } from '../../../functions/domain/slots';

const iot = mockClient(IoTClient);
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const FP = 'c'.repeat(64);
const T0 = '2026-03-15T10:00:00.000Z';
const T1 = '2026-03-16T10:00:00.000Z';

const slot = (status: Slot['status'], version = 0, type: Slot['type'] = 'x509'): Slot => ({
  status,
  active_version: version,
  type,
  secrets: {},
  events: {},
});
function device(overrides: Partial<Device> = {}): Device {
  return {
    id: 'cam-1',
    tags: [],
    status: 'ACTIVE',
    icon: 'chip',
    icon_color: '#000000',
    creation_timestamp: T0,
    metadata: {},
    dms_owner: 'dms-1',
    identity: slot('ACTIVE'),
    slots: {},
    events: {},
    version: 3,
    ...overrides,
  };
}
const weak: DeviceFinding = { check: 'weak-key', slot: 'identity', since: T0, detail: 'RSA-1024' };
const revokedDetail = 'identity certificate version 0 revoked in the registry, not yet disabled in AWS IoT';
const opened = (since = T1, detail = revokedDetail): DeviceFinding => ({
  check: IOT_CHECK,
  slot: 'identity',
  since,
  detail,
});

describe('the rule a change applies', () => {
  const active = device();
  const revoked = device({ status: 'REVOKED', identity: slot('REVOKED') });

  it('opens when the change retires the identity certificate (revoked, or the device decommissioned)', () => {
    expect(withIotFinding(active, revoked, [weak], T1)).toEqual([weak, opened()]);
    expect(withIotFinding(active, device({ status: 'DECOMMISSIONED' }), [], T1)).toEqual([
      opened(T1, 'device decommissioned; identity certificate version 0 not yet disabled in AWS IoT'),
    ]);
    // Only an x509 identity is ever in AWS IoT.
    const none = device({ identity: slot('ACTIVE', 0, 'TOKEN') });
    expect(retiredInIot({ ...none, status: 'DECOMMISSIONED' })).toBeUndefined();
    expect(retiredInIot(device({ identity: undefined, status: 'DECOMMISSIONED' }))).toBeUndefined();
  });

  it('does not open again on a device retired already (the sync resolved it); keeps one that is open', () => {
    const findings = [weak];
    expect(withIotFinding(revoked, { ...revoked, version: 4 }, findings, T1)).toBe(findings);
    const open = [opened(T0)];
    expect(withIotFinding(revoked, device({ status: 'DECOMMISSIONED', identity: slot('REVOKED') }), open, T1)).toBe(
      open,
    );
  });

  it('resolves when the same certificate is back in service; a re-provision leaves it to the sync', () => {
    expect(withIotFinding(revoked, active, [opened(T0)], T1)).toEqual([]);
    const reprovisioned = device({ identity: slot('ACTIVE', 1) });
    const open = [opened(T0)];
    expect(withIotFinding(revoked, reprovisioned, open, T1)).toBe(open);
    // A later change of the re-provisioned device keeps it too (only the sync knows AWS IoT).
    expect(withIotFinding(reprovisioned, { ...reprovisioned, version: 5 }, open, T1)).toBe(open);
  });
});

describe('the IoT sync resolves it', () => {
  const stored: SlotVersion = {
    device_id: 'cam-1',
    slot: 'identity',
    version: 0,
    type: 'x509',
    status: 'REVOKED',
    revocation_reason: 'KeyCompromise',
    created_at: T0,
    certificate: {
      pem: '',
      serial_number: 'abc',
      issuer: '',
      subject: '',
      not_before: '',
      not_after: '',
      sha256_fingerprint: FP,
      public_key_sha256: '',
    },
  };
  const revokedWithFinding = (version: number) =>
    withFindings(device({ status: 'REVOKED', identity: slot('REVOKED'), version }), {
      policy_version: 0,
      findings: [opened()],
    });

  function setup(reads: Device[], outcomes: ('resolved' | 'moved' | 'none')[]) {
    const resolutions: [string, number][] = [];
    const sync = iotSync({
      devices: {
        get: async () => (reads.length > 1 ? reads.shift() : reads[0]),
        getSlotVersion: async () => stored,
      },
      iot: iotRegistry({ client: new IoTClient({ region: REGION }), sleep: async () => undefined }),
      findings: {
        resolveIot: async (id, version) => {
          resolutions.push([id, version]);
          return outcomes.shift() ?? 'none';
        },
      },
      settings: {
        partition: 'aws',
        region: REGION,
        accountId: ACCOUNT,
        metadataKeys: [],
        maxAttributes: 3,
        decommissionCertificateStatus: 'INACTIVE',
        certificateRegistration: 'none',
      },
    });
    return { sync, resolutions };
  }

  beforeEach(() => {
    iot.reset();
    iot.on(DescribeThingCommand).resolves({ thingName: 'cam-1', version: 1, attributes: { status: 'REVOKED' } });
    iot.on(UpdateThingCommand).resolves({});
    iot.on(DetachThingPrincipalCommand).resolves({});
    iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { certificateId: FP, status: 'ACTIVE' } });
  });

  const updates = () => iot.commandCalls(UpdateCertificateCommand).map((c) => c.args[0].input);

  it('after AWS IoT revoked the certificate, for the version synced', async () => {
    iot.on(UpdateCertificateCommand).resolves({});
    const { sync, resolutions } = setup([revokedWithFinding(4)], ['resolved']);
    expect(await sync.syncDevice('cam-1')).toMatchObject({ certificate: 'revoked', finding: 'resolved' });
    expect(updates()).toEqual([{ certificateId: FP, newStatus: 'REVOKED' }]);
    expect(resolutions).toEqual([['cam-1', 4]]);
  });

  it('never after a failed call: the sync throws and the finding stays for the retry', async () => {
    iot.on(UpdateCertificateCommand).rejects(new InvalidRequestException({ message: 'refused', $metadata: {} }));
    const { sync, resolutions } = setup([revokedWithFinding(4)], []);
    await expect(sync.syncDevice('cam-1')).rejects.toThrow('refused');
    expect(updates()).toEqual([{ certificateId: FP, newStatus: 'REVOKED' }]);
    expect(resolutions).toEqual([]);
  });

  it('a device that moved before the resolution is synced again, then resolved at its new version', async () => {
    iot.on(UpdateCertificateCommand).resolves({});
    const { sync, resolutions } = setup([revokedWithFinding(4), revokedWithFinding(5)], ['moved', 'resolved']);
    expect(await sync.syncDevice('cam-1')).toMatchObject({ finding: 'resolved' });
    expect(resolutions).toEqual([
      ['cam-1', 4],
      ['cam-1', 5],
    ]);
    // No state store here: each pass reconciles, each the same idempotent call.
    expect(updates()).toEqual([
      { certificateId: FP, newStatus: 'REVOKED' },
      { certificateId: FP, newStatus: 'REVOKED' },
    ]);
  });

  it('makes no resolution for a device without the finding', async () => {
    iot.on(UpdateCertificateCommand).resolves({});
    const plain = device({ status: 'REVOKED', identity: slot('REVOKED'), version: 4 });
    const { sync, resolutions } = setup([withFindings(plain, { policy_version: 0, findings: [weak] })], []);
    expect(await sync.syncDevice('cam-1')).not.toHaveProperty('finding');
    expect(resolutions).toEqual([]);
  });
});
