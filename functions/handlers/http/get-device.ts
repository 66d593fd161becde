import { withIotView } from '../../app/iot-view';
import { devices } from '../../composition/devices';
import { iotStates } from '../../composition/iot-states';
import { findingsOf } from '../../domain/findings';
import { connectivityReads } from '../../composition/presence';
import { connectivityView } from '../../domain/connectivity';
import { httpHandler, ok } from '../../http/http';
import { deviceIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const id = deviceIdOf(request);
  // Read side by side: the sync state and the connectivity are items of their own, never part of the device's writes.
  const [device, iot, connectivity] = await Promise.all([
    devices().get(id),
    iotStates().get(id),
    connectivityReads().get(id),
  ]);
  // The findings are kept beside the document (domain/findings.ts): only this view shows them.
  const view = { ...withIotView(device, iot), findings: findingsOf(device) };
  return ok(connectivity ? { ...view, connectivity: connectivityView(connectivity) } : view, device.version);
});
