/**
 * The lifecycle list behind the Lamassu device view (domain/lifecycle.ts, docs/data-model.md), on
 * the real adapters and the embedded engine: a device with more metadata updates than the 20 inline
 * events still shows CREATED and every renewal; a device stored before the list existed still
 * renders and gains the list on its next change. The full-size run (1,000 metadata updates and 100
 * renewals) is lamassu-lifecycle.soak.test.ts.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LIFECYCLE_ATTRIBUTE } from '../../../functions/adapters/dynamodb/device-writes';
import { deviceKey } from '../../../functions/adapters/dynamodb/keys';
import { MERGE_PATCH } from '../../../functions/domain/patch';
import { IDENTITY_SLOT } from '../../../functions/domain/slots';
import { toLamassuDevice } from '../../../functions/lamassu/model';
import type { Engine } from '@device-manager/local-engine';
import { freshTable, startTestEngine } from '../../support/dynamo';
import { busyDeviceKeepsItsLifecycle, byReference, DAY, lifecycleSetup } from '../../support/lifecycle';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

it('a device with 60 metadata updates and 6 renewals keeps CREATED and every renewal in the Lamassu view', async () => {
  await busyDeviceKeepsItsLifecycle(await freshTable(engine), 6, 10);
});

it(
  'a device stored without the list renders from its inline ' + 'events and gains the list on its next change',
  async () => {
    const table = await freshTable(engine);
    const { devices, repository, clock } = lifecycleSetup(table);
    await devices.register({ id: 'legacy', dms_id: 'ra-1' });
    await devices.bind('legacy', IDENTITY_SLOT, byReference(0, clock.now(), false));
    clock.advance(DAY);
    await devices.bind('legacy', IDENTITY_SLOT, byReference(1, clock.now()));
    await devices.patch('legacy', MERGE_PATCH, { metadata: { fw: '1.0' } });
    // As an item written before the list existed.
    await table.documentClient.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: deviceKey('legacy'),
        UpdateExpression: `REMOVE ${LIFECYCLE_ATTRIBUTE}`,
      }),
    );

    const expected = {
      device: [
        { type: 'CREATED', description: '' },
        { type: 'STATUS-UPDATED', description: "Status updated from 'NO_IDENTITY' to 'ACTIVE'" },
      ],
      identity: [
        { type: 'PROVISIONED', description: '' },
        { type: 'RENEWED', description: 'New Active Version set to 1' },
      ],
    };
    const sorted = (events: Record<string, unknown>) =>
      Object.entries(events)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([, e]) => e);
    const legacy = toLamassuDevice((await repository.get('legacy'))!);
    expect({ device: sorted(legacy.events), identity: sorted(legacy.identity!.events) }).toEqual(expected);

    await devices.patch('legacy', MERGE_PATCH, { metadata: { fw: '1.1' } });
    const item = (
      await table.documentClient.send(new GetCommand({ TableName: table.tableName, Key: deviceKey('legacy') }))
    ).Item!;
    expect(JSON.parse(item[LIFECYCLE_ATTRIBUTE] as string).map((e: { type: string }) => e.type)).toEqual([
      'CREATED',
      'PROVISIONED',
      'STATUS-UPDATED',
      'RENEWED',
    ]);
    const after = toLamassuDevice((await repository.get('legacy'))!);
    expect({ device: sorted(after.events), identity: sorted(after.identity!.events) }).toEqual(expected);
  },
);
