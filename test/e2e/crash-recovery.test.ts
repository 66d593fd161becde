/**
 * `kill -9` of the local service under load, then a restart on the same data folder: the real
 * local/main.ts (through tsx) runs as a child process on a temporary data folder while 16 clients register
 * devices; it is killed (SIGKILL, no chance to flush anything) after a number of acknowledged
 * registrations (twice in the soak tier), then restarted and stopped gracefully. Every acknowledged device is stored,
 * the statistics equal a recount of the stored devices, and every stored device has exactly one
 * `device.create` event in the events file (a replay after the crash may deliver an event again,
 * with the same id).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnLocalService, type ChildService } from '../support/child-service';
import { call } from '../support/http';
import { bySize } from '../support/tier';

const IN_FLIGHT = 16;
/** Acknowledged registrations per run before the kill (the soak tier: more, and a second kill). */
const ACKS_BEFORE_KILL = bySize(60, 150);
const KILLS = bySize(1, 2);

let dir: string;
const children: ChildService[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crash-recovery-'));
});
afterAll(async () => {
  // Whatever happened, leave no service running.
  for (const service of children) service.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function startService(): Promise<ChildService> {
  const service = await spawnLocalService({
    DATA_DIR: join(dir, 'dynamodb'),
    LOCAL_EVENTS_FILE: join(dir, 'events.ndjson'),
    TABLE_NAME: 'crash-devices',
  });
  children.push(service);
  return service;
}

/**
 * Registers devices with IN_FLIGHT clients until the service stops answering (or `stopAfter`
 * acknowledgements, then resolves). Returns the ids acknowledged with 201.
 */
async function register(
  url: string,
  prefix: string,
  onAck: (count: number) => void,
  stopAfter: number,
): Promise<string[]> {
  const acked: string[] = [];
  let next = 0;
  let down = false;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (!down && acked.length < stopAfter) {
        const id = `${prefix}-${next++}`;
        try {
          const reply = await call(url, 'POST', '/v2/devices', {
            id,
            dms_id: `dms-${next % 3}`,
            tags: ['crash', `t${next % 5}`],
            metadata: { run: prefix },
          });
          if (reply.status !== 201) throw new Error(`${id}: ${reply.status} ${JSON.stringify(reply.body)}`);
          acked.push(id);
          onAck(acked.length);
        } catch (error) {
          if (error instanceof Error && error.message.startsWith(id)) throw error;
          down = true; // the connection failed: the service was killed
        }
      }
    }),
  );
  return acked;
}

/** Every stored device (id and status), through the list API. */
async function listAll(url: string): Promise<{ id: string; status: string }[]> {
  const devices: { id: string; status: string }[] = [];
  let next = '';
  do {
    const reply = await call(
      url,
      'GET',
      `/v2/devices?page_size=500${next ? `&bookmark=${encodeURIComponent(next)}` : ''}`,
    );
    expect(reply.status).toBe(200);
    devices.push(...reply.body.list.map((d: { id: string; status: string }) => ({ id: d.id, status: d.status })));
    next = reply.body.next;
  } while (next !== '');
  return devices;
}

test(
  'after kill -9 under 16-way registrations and a restart, every ' +
    'acknowledged device is stored, statistics equal a recount ' +
    'and every device has its device.create event',
  async () => {
    const acknowledged: string[] = [];
    for (let run = 0; run < KILLS; run++) {
      const service = await startService();
      let killed = false;
      const acked = await register(
        service.url,
        `crash${run}`,
        (count) => {
          // Kill while the clients keep sending: requests in flight are lost, unacknowledged.
          if (count >= ACKS_BEFORE_KILL && !killed) {
            killed = true;
            service.kill('SIGKILL');
          }
        },
        Number.MAX_SAFE_INTEGER,
      );
      expect(await service.exited).toBeNull(); // killed by the signal, not exited
      expect(acked.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
      acknowledged.push(...acked);
    }

    const service = await startService();
    let stored: { id: string; status: string }[];
    try {
      acknowledged.push(...(await register(service.url, 'after', () => undefined, 50)));
      stored = await listAll(service.url);
      const storedIds = new Set(stored.map((d) => d.id));
      expect(acknowledged.filter((id) => !storedIds.has(id))).toEqual([]);

      const stats = await call(service.url, 'GET', '/v2/stats/devices');
      const recount: Record<string, number> = {};
      for (const { status } of stored) recount[status] = (recount[status] ?? 0) + 1;
      expect(stats.body.total).toBe(stored.length);
      expect(
        Object.fromEntries(
          Object.entries(stats.body.status_distribution as Record<string, number>).filter(([, n]) => n > 0),
        ),
      ).toEqual(recount);
    } finally {
      // A graceful stop publishes everything committed before it exits.
      service.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    }

    const createIds = new Map<string, Set<string>>();
    for (const line of (await readFile(join(dir, 'events.ndjson'), 'utf8')).split('\n').filter(Boolean)) {
      const event = JSON.parse(line) as { 'detail-type': string; detail: { id: string; subject: string } };
      if (event['detail-type'] !== 'device.create') continue;
      const ids = createIds.get(event.detail.subject) ?? new Set();
      ids.add(event.detail.id);
      createIds.set(event.detail.subject, ids);
    }
    // A redelivery repeats an event id; a second distinct id would be a second creation.
    const missing = stored.filter(({ id }) => !createIds.has(`device/${id}`)).map(({ id }) => id);
    const doubled = stored.filter(({ id }) => (createIds.get(`device/${id}`)?.size ?? 0) > 1).map(({ id }) => id);
    expect({ missing, doubled }).toEqual({ missing: [], doubled: [] });
    // And no event for a device that was never stored.
    const storedSubjects = new Set(stored.map(({ id }) => `device/${id}`));
    expect([...createIds.keys()].filter((subject) => !storedSubjects.has(subject))).toEqual([]);
    expect(stored.length).toBeGreaterThanOrEqual(KILLS * ACKS_BEFORE_KILL + 50);
  },
  bySize(240_000, 600_000),
);
