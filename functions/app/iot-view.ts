/**
 * The `iot` of GET /v2/devices/{id} (docs/api.md, AWS IoT Core registry sync): what the IoT sync last
 * did for the device, read-only, so an operator sees it without the AWS console.
 */
import type { Device } from '../domain/device';
import type { IotSyncState } from './ports';

export interface DeviceIotView {
  thing_name: string;
  thing_arn: string;
  certificate_id?: string;
  certificate_arn?: string;
  /** The certificate's status in AWS IoT as the sync last set or read it. */
  certificate_status?: string;
  /** Whether the certificate is the thing's principal. */
  attached?: boolean;
  /** The thing groups the thing was put in and the IoT policies on the certificate, from the DMS's settings. */
  thing_groups?: string[];
  policies?: string[];
  /** The device version AWS IoT was last brought to. */
  synced_version: number;
  last_sync: string;
  last_error?: string;
}

export function iotViewOf(state: IotSyncState): DeviceIotView {
  const { device_version, attributes_digest: _digest, dms_iot_digest: _dmsDigest, ...rest } = state;
  return { ...rest, synced_version: device_version };
}

/** The device with its `iot` view when the sync has a state for it. */
export function withIotView(device: Device, state: IotSyncState | undefined): Device & { iot?: DeviceIotView } {
  return state ? { ...device, iot: iotViewOf(state) } : device;
}
