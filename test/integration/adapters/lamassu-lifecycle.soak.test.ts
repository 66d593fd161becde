/**
 * Full size (soak tier): a device with 1,000 metadata updates and 100 renewals keeps CREATED and all
 * 100 renewals in the Lamassu view, and its item stays within DynamoDB's 400 KB.
 */
import type { Engine } from '@device-manager/local-engine';
import { freshTable, startTestEngine } from '../../support/dynamo';
import { busyDeviceKeepsItsLifecycle } from '../../support/lifecycle';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

it('a device with 1,000 metadata updates and 100 renewals keeps ' +
  'CREATED and all 100 renewals in the Lamassu view, within ' +
  '400 KB', async () => {
  await busyDeviceKeepsItsLifecycle(await freshTable(engine), 100, 10);
}, 300_000);
