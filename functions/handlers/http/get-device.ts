import { withIotView } from '../../app/iot-view';
import { devices } from '../../composition/devices';
import { iotStates } from '../../composition/iot-states';
import { httpHandler, ok } from '../../http/http';
import { deviceIdOf } from '../../http/params';

export const handler = httpHandler({}, async (request) => {
  const id = deviceIdOf(request);
  // Read side by side: the sync state is its own item, never part of the device's writes.
  const [device, iot] = await Promise.all([devices().get(id), iotStates().get(id)]);
  return ok(withIotView(device, iot), device.version);
});
