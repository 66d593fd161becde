import { withIotView } from '../../app/iot-view';
import { devices } from '../../composition/devices';
import { iotStates } from '../../composition/iot-states';
import { findingsOf } from '../../domain/findings';
import { httpHandler, ok } from '../../http/http';
import { deviceIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const id = deviceIdOf(request);
  // Read side by side: the sync state is its own item, never part of the device's writes.
  const [device, iot] = await Promise.all([devices().get(id), iotStates().get(id)]);
  // The findings are kept beside the document (domain/findings.ts): only this view shows them.
  return ok({ ...withIotView(device, iot), findings: findingsOf(device) }, device.version);
});
