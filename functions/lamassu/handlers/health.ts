/**
 * Lamassu's health check (`GET /health` of each Lamassu service; `/api/devmanager/health` behind its
 * gateway), read by the Lamassu dashboard's Backend Services dialog. The route has no authorizer
 * and this function no data access: it says that the service answers, nothing about devices.
 */
import { httpHandler, ok } from '../../http/http';
import { lamassuHealth } from '../health';

export const handler = httpHandler({}, async () => ok(lamassuHealth()));
