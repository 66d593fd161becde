/**
 * The composition root of CA registration (docs/iot-provisioning.md, CA registration): AWS IoT, or the
 * registry installed by the local service (a dry run) or a test. Its own module, so only its two routes
 * load the AWS IoT client.
 */
import { iotCaService, type IotCaService } from '../app/iot-ca';
import type { IotCaRegistry } from '../app/ports';
import { iotCaRegistry } from '../adapters/iot/iot-ca';
import { createIotClient } from '../adapters/iot/client';

let current: IotCaService | undefined;

export function iotCa(): IotCaService {
  current ??= iotCaService({
    iot: iotCaRegistry({
      client: createIotClient({ region: process.env.AWS_REGION, endpoint: process.env.IOT_ENDPOINT || undefined }),
    }),
  });
  return current;
}

/** Local-service and test hook: the registry the routes use (undefined: AWS IoT again). */
export function setIotCaRegistry(iot: IotCaRegistry | undefined): void {
  current = iot ? iotCaService({ iot }) : undefined;
}
