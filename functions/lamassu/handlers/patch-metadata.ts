/** Lamassu `PATCH /v1/devices/{id}/metadata`: the same handler as PUT (each route owns a function). */
export { handler } from './update-metadata';
