/**
 * The composition root of the AWS IoT sync (queue → IoT): the device repository (reads) and the IoT
 * client, kept apart so that no other function loads the IoT client.
 */
import { iotSync, type IotSync } from '../app/iot-sync';
import type { DeviceRepository, IotRegistry } from '../app/ports';
import { createIotClient } from '../adapters/iot/client';
import { iotRegistry } from '../adapters/iot/iot-registry';
import { deviceRepository } from './repositories';
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

export function createIotSync(
  config: IotSyncConfig,
  owner: ArnOwner,
  devices: DeviceRepository,
  iot?: IotRegistry,
): IotSync {
  if (!config.region) throw new ConfigError('AWS_REGION', 'is required for certificate ARNs');
  const log = (message: string, detail: Record<string, unknown>) => logger.info(message, detail);
  return iotSync({
    devices,
    iot: iot ?? iotRegistry({ client: createIotClient({ region: config.region, endpoint: config.iotEndpoint }), log }),
    settings: {
      partition: owner.partition,
      region: config.region,
      accountId: config.accountId ?? owner.account,
      metadataKeys: config.metadataKeys,
      thingTypeName: config.thingTypeName,
      maxAttributes: config.thingTypeName ? IOT_MAX_ATTRIBUTES_TYPED : IOT_MAX_ATTRIBUTES_UNTYPED,
      decommissionCertificateStatus: config.decommissionCertificateStatus,
    },
    log,
  });
}

let currentIotSync: { config: IotSyncConfig; sync: IotSync } | undefined;

/** The process-wide IoT sync; the owner's account (from the function's ARN) is used unless AWS_ACCOUNT_ID is set. */
export function iotSyncService(owner: ArnOwner): { config: IotSyncConfig; sync: IotSync } {
  if (!currentIotSync) {
    const config = loadIotSyncConfig();
    currentIotSync = { config, sync: createIotSync(config, owner, deviceRepository()) };
  }
  return currentIotSync;
}

/** Test and local-service hook: replace the process-wide IoT sync. */
export function setIotSync(next: { config: IotSyncConfig; sync: IotSync } | undefined): void {
  currentIotSync = next;
}
