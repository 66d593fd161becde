/** Path parameters, validated once (request bodies: body.ts, which brings the schemas). */
import { DeviceNotFoundError, GroupNotFoundError, ID_PATTERN, JobNotFoundError, ValidationError } from '../domain';
import { IDENTITY_SLOT } from '../domain/slots';
import type { HttpRequest } from './http';

/** A syntactically impossible id cannot name a device: 404, the same answer as an unknown one. */
export function deviceIdOf(request: HttpRequest): string {
  const id = request.pathParameters.id ?? '';
  if (!ID_PATTERN.test(id)) throw new DeviceNotFoundError(id);
  return id;
}

/** Group ids follow the device id rule; an impossible one is a 404 like an unknown one. */
export function groupIdOf(request: HttpRequest): string {
  const id = request.pathParameters.id ?? '';
  if (!ID_PATTERN.test(id)) throw new GroupNotFoundError(id);
  return id;
}

/** An extra slot name: the device id rule, and not the reserved `identity`. */
export function slotNameOf(request: HttpRequest, allowIdentity = false): string {
  const slot = request.pathParameters.slot ?? '';
  if (!ID_PATTERN.test(slot))
    throw new ValidationError('invalid slot name', [
      { field: 'slot', problem: 'must be 1-128 characters of A-Z a-z 0-9 : _ . -' },
    ]);
  if (slot === IDENTITY_SLOT && !allowIdentity)
    throw new ValidationError('invalid slot name', [
      { field: 'slot', problem: "'identity' names the identity slot: use /idslot" },
    ]);
  return slot;
}

/** A DMS id in the path: the device id rule. */
export function dmsIdOf(request: HttpRequest): string {
  const id = request.pathParameters.id ?? '';
  if (!ID_PATTERN.test(id))
    throw new ValidationError('invalid DMS id', [
      { field: 'id', problem: 'must be 1-128 characters of A-Z a-z 0-9 : _ . -' },
    ]);
  return id;
}

/** A job id in the path: an impossible one is a 404 like an unknown one. */
export function jobIdOf(request: HttpRequest): string {
  const id = request.pathParameters.id ?? '';
  if (!ID_PATTERN.test(id)) throw new JobNotFoundError(id);
  return id;
}
