/**
 * The Lamassu edge's HTTP conventions: the shared middy chain (size, media type, JSON, 5xx without
 * internals), plus the error messages Lamassu's SDK recognises. The SDK matches `err` exactly per
 * status (sdk/devicemanager.go): e.g. `GET /devices/{id}` answers an unknown device with 400
 * `device not found`, which is how the RA decides to create the device just in time.
 */
import type { Device } from '../domain/device';
import {
  DeviceAlreadyExistsError,
  DeviceNotDecommissionedError,
  DeviceNotFoundError,
  DomainError,
  GroupAlreadyExistsError,
  GroupCycleError,
  GroupNameTakenError,
  GroupNotFoundError,
  InvalidStateError,
  ParentGroupNotFoundError,
  ValidationError,
} from '../domain/errors';
import { listSettings } from '../composition/context';
import { httpHandler, type HttpHandlerOptions, type HttpRequest, type HttpResult } from '../http/http';
import { LAMASSU_ERRORS, toLamassuDevice } from './model';
import type { ListDeps } from './query';

type ErrorClass = abstract new (...args: never[]) => DomainError;

/** Status and Lamassu message per error class; first match wins (subclasses first). */
const LAMASSU_ERROR_TABLE: ReadonlyArray<readonly [ErrorClass, number, string]> = [
  [DeviceNotFoundError, 404, LAMASSU_ERRORS.deviceNotFound],
  [DeviceAlreadyExistsError, 409, LAMASSU_ERRORS.deviceAlreadyExists],
  [DeviceNotDecommissionedError, 422, LAMASSU_ERRORS.deviceInvalidStatus],
  [InvalidStateError, 422, LAMASSU_ERRORS.deviceInvalidStatus],
  [GroupNotFoundError, 404, LAMASSU_ERRORS.groupNotFound],
  [ParentGroupNotFoundError, 404, LAMASSU_ERRORS.groupNotFound],
  [GroupAlreadyExistsError, 409, LAMASSU_ERRORS.groupAlreadyExists],
  [GroupNameTakenError, 409, LAMASSU_ERRORS.groupAlreadyExists],
  [GroupCycleError, 400, LAMASSU_ERRORS.groupCircularReference],
];

export interface LamassuHandlerOptions extends HttpHandlerOptions {
  /** Status of an unknown device on this route (Lamassu's GET /devices/{id} uses 400). */
  deviceNotFoundStatus?: number;
}

/** Errors in Lamassu's terms: `{err, code, details?}` with the message its SDK matches. */
function lamassuErrorResult(error: unknown, deviceNotFoundStatus = 404): HttpResult | undefined {
  const row = LAMASSU_ERROR_TABLE.find(([cls]) => error instanceof cls);
  if (!row || !(error instanceof DomainError)) return undefined;
  const [, status, err] = row;
  const statusCode = error instanceof DeviceNotFoundError ? deviceNotFoundStatus : status;
  return {
    statusCode,
    body: { err, code: error.code, ...(error instanceof ValidationError ? { details: error.details } : {}) },
  };
}

/** A v1 route: Lamassu's messages for the errors its SDK knows, the contract's mapping for the rest. */
export function lamassuHandler(options: LamassuHandlerOptions, fn: (request: HttpRequest) => Promise<HttpResult>) {
  return httpHandler(options, async (request) => {
    try {
      return await fn(request);
    } catch (error) {
      const mapped = lamassuErrorResult(error, options.deviceNotFoundStatus);
      if (mapped) return mapped;
      // Everything else keeps the contract's status and body (validation details included).
      throw error;
    }
  });
}

/** A device answer: Lamassu's model, our version as the ETag. */
export const deviceResult = (device: Device, statusCode = 200): HttpResult => ({
  statusCode,
  body: toLamassuDevice(device),
  version: device.version,
});

/** The list dependencies every v1 device list shares. */
export function listDeps(list: ListDeps['list'], scope?: ListDeps['scope']): ListDeps {
  const { config, bookmarks } = listSettings();
  return {
    list,
    codec: bookmarks,
    readBudget: config.listReadBudget,
    scope,
    byteBudget: config.listByteBudget,
    timeBudgetMs: config.requestTimeBudgetMs,
  };
}
