/**
 * The AWS IoT SDK client module, loaded on its first use instead of at module load. It is the
 * largest part of the IoT sync's cold start (its module defines every AWS IoT operation, about
 * 400 KB): loaded at init it put the sync at 1.6× a bare DynamoDB client (docs/cold-starts.md).
 * Import its values through `iotSdk()` only (types may be imported as usual); test/unit/bundles.test.ts
 * fails when the sync bundle loads it at init.
 */
import type * as IotSdk from '@aws-sdk/client-iot';

let sdk: typeof IotSdk | undefined;

/** `@aws-sdk/client-iot`, required on the first call (the Lambda runtime provides it). */
export function iotSdk(): typeof IotSdk {
  sdk ??= require('@aws-sdk/client-iot') as typeof IotSdk;
  return sdk;
}
