/**
 * docs/api.md, Limits and edges: a decoded bookmark position is validated before it is used. A bookmark correctly
 * signed (with a leaked or guessed key) but holding a position its list never writes is a 400.
 */
import { randomUUID } from 'node:crypto';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { groupRepository } from '../../../functions/adapters/dynamodb/group-repository';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { deviceService } from '../../../functions/app/devices';
import { InvalidBookmarkError } from '../../../functions/domain/errors';
import type { Engine } from '@device-manager/local-engine';
import { freshTable, startTestEngine, testClock } from '../../support/dynamo';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

const KEY = 'a-key-the-attacker-knows';
const forged = (query: unknown, position: string) => bookmarkCodec(KEY).encode(query, position);

it(
  'a forged events bookmark (any position but an event timestamp) ' + 'is InvalidBookmarkError, never a failed query',
  async () => {
    const table = await freshTable(engine);
    const repository = deviceRepository({
      client: table.documentClient,
      tableName: table.tableName,
      listShards: 2,
      statsShards: 2,
      bookmarks: bookmarkCodec(KEY),
    });
    const policies = policyRepository({
      client: table.documentClient,
      tableName: table.tableName,
      bookmarks: bookmarkCodec(KEY),
    });
    const devices = deviceService({ devices: repository, policies, clock: testClock(), newId: randomUUID });
    await devices.register({ id: 'd1', dms_id: 'm' });
    for (const position of ['x'.repeat(2000), '', 'EVENT#', '2026-03-15T10:00:00.000Z\u0000', 'not a time']) {
      await expect(devices.events('d1', 5, forged({ events: 'd1' }, position))).rejects.toThrow(InvalidBookmarkError);
    }
    // A genuine position still works.
    await expect(devices.events('d1', 5, forged({ events: 'd1' }, '2026-03-15T10:00:00.000Z'))).resolves.toEqual({
      next: '',
      list: [],
    });
  },
);

it('forged group and DMS list bookmarks are InvalidBookmarkError', async () => {
  const table = await freshTable(engine);
  const groups = groupRepository({
    client: table.documentClient,
    tableName: table.tableName,
    bookmarks: bookmarkCodec(KEY),
  });
  const policies = policyRepository({
    client: table.documentClient,
    tableName: table.tableName,
    bookmarks: bookmarkCodec(KEY),
  });
  for (const position of ['x'.repeat(2000), '', 'a b', 'GROUP#x']) {
    await expect(groups.list(5, forged({ groups: 'by-id' }, position))).rejects.toThrow(InvalidBookmarkError);
    await expect(policies.list(5, forged({ policies: true }, position))).rejects.toThrow(InvalidBookmarkError);
  }
  await expect(groups.list(5, forged({ groups: 'by-id' }, 'g1'))).resolves.toEqual({ next: '', list: [] });
});
