/**
 * The composition root of the AWS IoT sync (queue → IoT): the device repository (reads) and the IoT
 * client, kept apart so that no other function loads the IoT client.
 */
import { randomUUID } from 'node:crypto';
import { deviceChanges } from '../app/device-changes';
import { type IotFindings, iotSync, type IotSync } from '../app/iot-sync';
import { iotProvisioning as provisioningOf } from '../app/iot-provisioning';
import { shadowSync } from '../app/iot-shadow';
import type {
  DeviceRepository,
  IotProvisioningRegistry,
  IotRegistry,
  IotShadows,
  IotSyncStateStore,
  PolicyRepository,
} from '../app/ports';
import { defaultPolicy, policyWindows } from '../domain/policy';
import { DEFAULT_RENEWAL, type RenewalSettings } from '../domain/status';
import { iotSyncStateStore } from '../adapters/dynamodb/iot-sync-state';
import { createIotClient } from '../adapters/iot/client';
import { iotRegistry } from '../adapters/iot/iot-registry';
import { iotProvisioning } from '../adapters/iot/iot-provisioning';
import { iotShadows } from '../adapters/iot/iot-shadows';
import { pacer } from '../adapters/iot/pacer';
import { metricsTelemetry, tableContext } from './context';
import { deviceRepository, policyRepository } from './repositories';
import {
  ConfigError,
  IOT_MAX_ATTRIBUTES_TYPED,
  IOT_MAX_ATTRIBUTES_UNTYPED,
  type IotSyncConfig,
  loadIotSyncConfig,
} from '../runtime/config';
import { logger } from '../runtime/observability';

/** The IoT sync: the device repository (reads only) and AWS IoT, or the registry given (a dry run, a test fake). */
/** Where the function runs, from its ARN: the partition and account of the certificate ARNs. */
export interface ArnOwner {
  partition: string;
  account: string;
}

/** Per-DMS provisioning (docs/iot-provisioning.md): the DMS policies, and the registry given (a dry run, a fake). */
export interface ProvisioningDeps {
  policies: Pick<PolicyRepository, 'get'>;
  iot?: IotProvisioningRegistry;
  /**
   * The device shadow's identity actions (docs/events.md, Device shadow: identity actions): the renewal
   * defaults of a DMS without a stored policy (the boundary's timestamp), and the shadows given (a dry run,
   * a fake) instead of AWS IoT's data plane.
   */
  renewalDefaults?: RenewalSettings;
  shadows?: IotShadows;
}

export function createIotSync(
  config: IotSyncConfig,
  owner: ArnOwner,
  devices: DeviceRepository,
  states: IotSyncStateStore,
  iot?: IotRegistry,
  provisioning?: ProvisioningDeps,
  findings?: IotFindings,
): IotSync {
  if (!config.region) throw new ConfigError('AWS_REGION', 'is required for certificate ARNs');
  const log = (message: string, detail: Record<string, unknown>) => logger.info(message, detail);
  // One client and one pacer for both registries: each AWS IoT API keeps one pace.
  let shared: { client: ReturnType<typeof createIotClient>; pacer: ReturnType<typeof pacer> } | undefined;
  const real = () =>
    (shared ??= {
      client: createIotClient({ region: config.region, endpoint: config.iotEndpoint }),
      pacer: pacer({ rates: config.apiRates }),
    });
  const shadow =
    config.identityActions && provisioning
      ? shadowSync({
          settings: { shadowName: config.shadowName },
          shadows:
            provisioning.shadows ??
            iotShadows({
              control: real().client,
              region: config.region,
              endpoint: config.iotDataEndpoint,
              log,
              pacer: real().pacer,
            }),
          windowsOf: async (dms) => {
            const stored = await provisioning.policies.get(dms);
            return policyWindows(stored ?? defaultPolicy(dms, provisioning.renewalDefaults ?? DEFAULT_RENEWAL));
          },
        })
      : undefined;
  return iotSync({
    shadow,
    ...(findings ? { findings } : {}),
    devices,
    states,
    iot: iot ?? iotRegistry({ ...real(), log }),
    ...(provisioning
      ? {
          provisioning: provisioningOf({
            iot: provisioning.iot ?? iotProvisioning({ ...real(), log }),
            dmsSettings: async (dms) => (await provisioning.policies.get(dms))?.iot,
            ...(config.provisioningRoleArn ? { provisioningRoleArn: config.provisioningRoleArn } : {}),
            log,
          }),
        }
      : {}),
    settings: {
      partition: owner.partition,
      region: config.region,
      accountId: config.accountId ?? owner.account,
      metadataKeys: config.metadataKeys,
      thingTypeName: config.thingTypeName,
      maxAttributes: config.thingTypeName ? IOT_MAX_ATTRIBUTES_TYPED : IOT_MAX_ATTRIBUTES_UNTYPED,
      decommissionCertificateStatus: config.decommissionCertificateStatus,
      certificateRegistration: config.certificateRegistration,
    },
    log,
  });
}

let currentIotSync: { config: IotSyncConfig; sync: IotSync } | undefined;

/** The process-wide IoT sync; the owner's account (from the function's ARN) is used unless AWS_ACCOUNT_ID is set. */
export function iotSyncService(owner: ArnOwner): { config: IotSyncConfig; sync: IotSync } {
  if (!currentIotSync) {
    const config = loadIotSyncConfig();
    const { client, config: table, clock } = tableContext();
    const states = iotSyncStateStore({ client, tableName: table.tableName });
    const devices = deviceRepository();
    const policies = policyRepository();
    // The device write path, for the one change the sync makes: resolving `revoked-still-active-in-iot`.
    const findings = deviceChanges({ devices, policies, clock, newId: randomUUID, telemetry: metricsTelemetry });
    currentIotSync = {
      config,
      sync: createIotSync(
        config,
        owner,
        devices,
        states,
        undefined,
        { policies, renewalDefaults: table.renewalDefaults },
        findings,
      ),
    };
  }
  return currentIotSync;
}

/** Test and local-service hook: replace the process-wide IoT sync. */
export function setIotSync(next: { config: IotSyncConfig; sync: IotSync } | undefined): void {
  currentIotSync = next;
}
