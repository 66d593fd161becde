/**
 * The local service with ENGINE_INDEX_LAG_MS: the serial index lags the bind, and a revocation put on
 * the local bus right after the bind is retried by the local intake until the index has the version
 * (it is not acknowledged as an unknown serial). A serial of no device is still acknowledged once the
 * retry window has closed. (The engine-level behaviour, a GSI query missing a fresh entry and seeing
 * it after the lag, is asserted with a moved clock in test/integration/engine/index-lag.test.ts.)
 */
import type { LocalService } from '../../local/main';
import { certificate } from '../support/certificates';
import { call as request, startTestService } from '../support/http';

const LAG_MS = 1000;
let service: LocalService;
beforeAll(async () => {
  service = await startTestService({
    ENGINE_INDEX_LAG_MS: String(LAG_MS),
    UNKNOWN_SERIAL_RETRY_SECONDS: '3',
    LOCAL_EVENTS_FILE: '',
  });
});
afterAll(async () => {
  await service?.stop();
});
const call = (method: string, route: string, body?: unknown) => request(service.url, method, route, body);
const statusEvent = (serial: string) => ({
  source: 'ca.test',
  'detail-type': 'certificate.status.update',
  detail: { data: { updated: { serial_number: serial, status: 'REVOKED', revocation_reason: 'KeyCompromise' } } },
});

it('a revocation right after a bind lands: retried while the serial index lags', async () => {
  expect((await call('POST', '/v2/devices', { id: 'lag-e2e', dms_id: 'dms-lag' })).status).toBe(201);
  const { pem, serial } = await certificate({ notAfter: new Date(Date.now() + 300 * 86_400_000) });
  expect((await call('PUT', '/v2/devices/lag-e2e/idslot', { certificate: pem })).status).toBe(200);
  const put = await call('POST', '/_local/events', statusEvent(serial));
  expect(put.body.deliveries).toEqual([
    expect.objectContaining({
      target: 'certificate-status',
      ok: true,
      result: expect.objectContaining({ outcome: 'applied' }),
    }),
  ]);
  expect((await call('GET', '/v2/devices/lag-e2e')).body).toMatchObject({
    status: 'REVOKED',
    identity: { status: 'REVOKED' },
  });
}, 30_000);

it('a serial of no device is acknowledged once the window (UNKNOWN_SERIAL_RETRY_SECONDS) has closed', async () => {
  const put = await call('POST', '/_local/events', statusEvent('deadbeef02'));
  expect(put.body.deliveries).toEqual([
    expect.objectContaining({
      ok: true,
      result: { outcome: 'unknown-serial', serial: 'deadbeef02', status: 'REVOKED', results: [] },
    }),
  ]);
}, 30_000);
