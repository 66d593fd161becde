/**
 * Names shared by the functions that emit metrics and the stack that alarms on them (lib/): kept free
 * of runtime imports so the CDK app can read them.
 */
export const SERVICE_NAME = 'device-manager';
export const METRICS_NAMESPACE = 'DeviceManager';

export const METRIC = {
  devicesCreated: 'DevicesCreated',
  statusTransitions: 'StatusTransitions',
  sweepDuration: 'SweepDuration',
  sweepLag: 'SweepLag',
  sweepFailures: 'SweepFailures',
  publishFailures: 'PublishFailures',
  unknownSerials: 'UnknownSerials',
  iotSyncFailures: 'IotSyncFailures',
  caRevocationFailures: 'CaRevocationFailures',
  caUnknownSerials: 'CaUnknownSerials',
  devicesNotSeen: 'DevicesNotSeen',
} as const;
