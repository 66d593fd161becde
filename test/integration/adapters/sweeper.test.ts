/**
 * The sweeper on the real adapter and the embedded engine: exactly one transition per boundary,
 * crash recovery, racing sweepers, policy re-evaluation, statistics equal to a recount.
 */
import { outboxEventJson } from '../../../functions/adapters/dynamodb/outbox';
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { deviceService, type DeviceService } from '../../../functions/app/devices';
import { policyService } from '../../../functions/app/policies';
import { sweep } from '../../../functions/app/sweep';
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { deviceRepository } from '../../../functions/adapters/dynamodb/device-repository';
import { sweepIndex } from '../../../functions/adapters/dynamodb/sweep-index';
import { policyRepository } from '../../../functions/adapters/dynamodb/policy-repository';
import { parseCertificate } from '../../../functions/domain/certificate';
import { DEVICE_STATUSES, type Device } from '../../../functions/domain/device';
import { InvalidStateError, SlotNotFoundError } from '../../../functions/domain/errors';
import type { Engine } from '@device-manager/local-engine';
import { certificate } from '../../support/certificates';
import { settledCounters, freshTable, startTestEngine, testClock, type TestTable } from '../../support/dynamo';

const DAY = 86_400_000;
let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

function setup(table: TestTable) {
  const clock = testClock('2026-03-15T10:00:00.000Z');
  const transitions: string[] = [];
  const telemetry = {
    deviceCreated: () => transitions.push('created'),
    statusChanged: (from: string, to: string) => transitions.push(`${from}>${to}`),
  };
  const bookmarks = bookmarkCodec('k');
  const repository = settledCounters(
    deviceRepository({
      client: table.documentClient,
      tableName: table.tableName,
      listShards: 4,
      statsShards: 2,
      dueShards: 3,
      bookmarks,
    }),
    table,
    2,
  );
  const policies = policyRepository({ client: table.documentClient, tableName: table.tableName, bookmarks });
  const index = sweepIndex({ repository, client: table.documentClient, tableName: table.tableName });
  const service = deviceService({ devices: repository, policies, clock, newId: randomUUID, telemetry });
  const dms = policyService({ policies, clock, newId: randomUUID });
  const run = (svc: Pick<DeviceService, 'refresh'> = service) =>
    sweep({ index, policies, service: svc, clock }, { deadline: Date.now() + 60_000, pageSize: 7 });
  return { clock, repository, policies, service, dms, run, transitions, index };
}

async function statusEvents(table: TestTable) {
  const out = await table.documentClient.send(new ScanCommand({ TableName: table.tableName }));
  const items = out.Items ?? [];
  return {
    history: items.filter((i) => i.kind === 'event' && i.type === 'STATUS-UPDATED'),
    outbox: items
      .filter((i) => i.kind === 'outbox')
      .map((i) => JSON.parse(outboxEventJson(i.event as Uint8Array)) as { type: string; subject: string }),
  };
}

async function recount(service: DeviceService): Promise<Record<string, number>> {
  const page = await service.list({ filters: [], sortBy: 'id', sortMode: 'asc', pageSize: 1000 });
  return Object.fromEntries(DEVICE_STATUSES.map((s) => [s, page.list.filter((d: Device) => d.status === s).length]));
}

describe('sweeping a fleet with mixed boundaries', () => {
  let table: TestTable;
  let ctx: ReturnType<typeof setup>;
  const expiries: Record<string, number> = {};

  beforeAll(async () => {
    table = await freshTable(engine);
    ctx = setup(table);
    // 30 devices: expiries from 5 to 120 days ahead; 5 without identity.
    for (let i = 0; i < 35; i++) {
      const id = `dev-${String(i).padStart(2, '0')}`;
      await ctx.service.register({ id, dms_id: i % 2 ? 'dms-a' : 'dms-b' });
      if (i >= 30) continue;
      const notAfter = Date.parse('2026-03-15T10:00:00.000Z') + (5 + i * 4) * DAY;
      expiries[id] = notAfter;
      await ctx.service.bind(id, 'identity', {
        type: 'x509',
        certificate: parseCertificate((await certificate({ notAfter: new Date(notAfter) })).pem),
      });
    }
  });

  it('persists exactly one transition per boundary crossed, and a second sweep adds none', async () => {
    const before = await statusEvents(table);
    ctx.clock.advance(30 * DAY);
    const first = await ctx.run();
    const second = await ctx.run();
    const after = await statusEvents(table);
    const now = ctx.clock.now().getTime();
    const status = (e: number) =>
      now >= e ? 'EXPIRED' : now >= e - 14 * DAY ? 'EXPIRING_SOON' : now >= e - 60 * DAY ? 'RENEWAL_PENDING' : 'ACTIVE';
    const initial = (e: number) =>
      Date.parse('2026-03-15T10:00:00.000Z') >= e - 14 * DAY
        ? 'EXPIRING_SOON'
        : Date.parse('2026-03-15T10:00:00.000Z') >= e - 60 * DAY
          ? 'RENEWAL_PENDING'
          : 'ACTIVE';
    const changed = Object.entries(expiries).filter(([, e]) => status(e) !== initial(e));
    expect(changed.length).toBeGreaterThan(5);
    expect(first.transitioned).toBe(changed.length);
    expect(second.transitioned).toBe(0);
    expect(second.due).toBe(0);
    expect(after.history.length - before.history.length).toBe(changed.length);
    for (const [id, e] of Object.entries(expiries)) expect((await ctx.service.get(id)).status).toBe(status(e));
    const outboxStatus =
      after.outbox.filter((o) => o.type === 'device.status.update').length -
      before.outbox.filter((o) => o.type === 'device.status.update').length;
    expect(outboxStatus).toBe(changed.length);
    const stats = await ctx.service.stats([]);
    expect(stats.status_distribution).toEqual(await recount(ctx.service));
  });

  it('reads only due devices: nothing when nothing is due', async () => {
    const before = ctx.repository.itemsRead;
    const report = await ctx.run();
    expect(report.due).toBe(0);
    expect(ctx.repository.itemsRead - before).toBe(0);
  });

  it('a sweep that crashes midway is finished by the next run, without duplicates', async () => {
    ctx.clock.advance(40 * DAY);
    let calls = 0;
    const crashing: Pick<DeviceService, 'refresh'> = {
      refresh: async (device, cache) => {
        if (++calls > 4) throw new Error('crash');
        return ctx.service.refresh(device, cache);
      },
    };
    const before = await statusEvents(table);
    const broken = await ctx.run(crashing);
    expect(broken.complete).toBe(false);
    expect(broken.failed).toBeGreaterThan(0);
    const fixed = await ctx.run();
    const again = await ctx.run();
    expect(again.transitioned).toBe(0);
    const after = await statusEvents(table);
    expect(after.history.length - before.history.length).toBe(broken.transitioned + fixed.transitioned);
    const now = ctx.clock.now().getTime();
    for (const [id, e] of Object.entries(expiries)) {
      const expected =
        now >= e
          ? 'EXPIRED'
          : now >= e - 14 * DAY
            ? 'EXPIRING_SOON'
            : now >= e - 60 * DAY
              ? 'RENEWAL_PENDING'
              : 'ACTIVE';
      expect((await ctx.service.get(id)).status).toBe(expected);
    }
    expect((await ctx.service.stats([])).status_distribution).toEqual(await recount(ctx.service));
  });
});

describe('racing sweepers and policy changes', () => {
  it('two sweepers racing record each transition once', async () => {
    const table = await freshTable(engine);
    const ctx = setup(table);
    for (let i = 0; i < 24; i++) {
      await ctx.service.register({ id: `r-${i}`, dms_id: 'dms-r' });
      await ctx.service.bind(`r-${i}`, 'identity', {
        type: 'x509',
        certificate: parseCertificate(
          (await certificate({ notAfter: new Date(Date.parse('2026-03-15T10:00:00Z') + (61 + i) * DAY) })).pem,
        ),
      });
    }
    ctx.clock.advance(40 * DAY); // all cross ACTIVE → RENEWAL_PENDING
    const [a, b] = await Promise.all([ctx.run(), ctx.run()]);
    expect(a.transitioned + b.transitioned).toBe(24);
    const { history } = await statusEvents(table);
    // 24 at bind (NO_IDENTITY → ACTIVE) + 24 transitions
    expect(history).toHaveLength(48);
    expect((await ctx.service.stats([])).status_distribution).toMatchObject({ RENEWAL_PENDING: 24, ACTIVE: 0 });
    // Telemetry counts each stored transition once, racing or not.
    expect(ctx.transitions.filter((t) => t === 'created')).toHaveLength(24);
    expect(ctx.transitions.filter((t) => t === 'NO_IDENTITY>ACTIVE')).toHaveLength(24);
    expect(ctx.transitions.filter((t) => t === 'ACTIVE>RENEWAL_PENDING')).toHaveLength(24);
  });

  it('a policy change re-evaluates every device of its DMS through the sweeper', async () => {
    const table = await freshTable(engine);
    const ctx = setup(table);
    for (let i = 0; i < 10; i++) {
      await ctx.service.register({ id: `p-${i}`, dms_id: i < 8 ? 'dms-p' : 'dms-other' });
      await ctx.service.bind(`p-${i}`, 'identity', {
        type: 'x509',
        certificate: parseCertificate(
          (await certificate({ notAfter: new Date(Date.parse('2026-03-15T10:00:00Z') + 80 * DAY) })).pem,
        ),
      });
    }
    expect((await ctx.service.get('p-0')).status).toBe('ACTIVE');
    await ctx.dms.put('dms-p', { settings: { preventive_delta: '90d', critical_delta: '30d' } });
    expect((await ctx.service.get('p-0')).status).toBe('ACTIVE'); // not inside the request
    expect(await ctx.policies.jobs()).toHaveLength(1);
    const report = await ctx.run();
    expect(report.reevaluated).toBe(8);
    expect(report.transitioned).toBe(8);
    expect(await ctx.policies.jobs()).toHaveLength(0);
    for (let i = 0; i < 10; i++)
      expect((await ctx.service.get(`p-${i}`)).status).toBe(i < 8 ? 'RENEWAL_PENDING' : 'ACTIVE');
  });
});

describe('slot operations on the engine', () => {
  it('stores every version, revokes, decommissions with CessationOfOperation', async () => {
    const table = await freshTable(engine);
    const ctx = setup(table);
    await ctx.service.register({ id: 's-1', dms_id: 'dms' });
    const { pem, keys } = await certificate({ notAfter: '2027-03-15T10:00:00Z' });
    await ctx.service.bind('s-1', 'identity', { type: 'x509', certificate: parseCertificate(pem) });
    const renewed = await ctx.service.bind('s-1', 'identity', {
      type: 'x509',
      certificate: parseCertificate((await certificate({ keys, notAfter: '2028-03-15T10:00:00Z' })).pem),
    });
    expect(renewed.identity?.active_version).toBe(1);
    expect(await ctx.service.slotVersion('s-1', 'identity', 0)).toMatchObject({
      status: 'SUPERSEDED',
      certificate: { pem: expect.stringContaining('BEGIN CERTIFICATE') },
    });
    await expect(ctx.service.slotVersion('s-1', 'identity', 7)).rejects.toThrow(SlotNotFoundError);
    await expect(ctx.service.revoke('s-1', 'nope', 'KeyCompromise')).rejects.toThrow(SlotNotFoundError);
    const gone = await ctx.service.decommission('s-1');
    expect(gone).toMatchObject({ status: 'DECOMMISSIONED', identity: { status: 'REVOKED' } });
    expect(await ctx.service.slotVersion('s-1', 'identity', 1)).toMatchObject({
      status: 'REVOKED',
      revocation_reason: 'CessationOfOperation',
    });
    await expect(
      ctx.service.bind('s-1', 'identity', { type: 'x509', certificate: parseCertificate(pem) }),
    ).rejects.toThrow(InvalidStateError);
    expect((await ctx.service.stats([])).status_distribution).toMatchObject({ DECOMMISSIONED: 1, ACTIVE: 0 });
  });
});
