/** Path parameters, validated once. */
import { DeviceNotFoundError, ID_PATTERN } from '../domain';
import type { HttpRequest } from './http';

/** A syntactically impossible id cannot name a device: 404, the same answer as an unknown one. */
export function deviceIdOf(request: HttpRequest): string {
  const id = request.pathParameters.id ?? '';
  if (!ID_PATTERN.test(id)) throw new DeviceNotFoundError(id);
  return id;
}
