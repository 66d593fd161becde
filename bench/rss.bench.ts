/**
 * `npm run bench:rss`: the memory the local service holds while a fleet is registered. Starts
 * local/main.ts as a child process on a temporary data folder (as `npm start` runs), registers
 * DEVICES devices (default 20,000) through the HTTP API with 16 requests in flight, and prints the
 * service's resident set size (RSS, from /proc) after start, after registering, after its events
 * are all published, and at its peak, anonymous and file-backed. RSS_IN_MEMORY=true runs it with
 * IN_MEMORY=true instead; RSS_NODE_DEFAULTS=true with node's default heap settings instead of
 * those of `npm start` (local/node-flags.ts), for a before/after in one go.
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnLocalService } from '../test/support/child-service';
import { fmt, inParallel, memoryOf, printTable } from './support';

const DEVICES = Number(process.env.DEVICES ?? 20000);
const IN_FLIGHT = 16;

async function post(url: string, body: unknown): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  await response.arrayBuffer();
  return response.status;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'bench-rss-'));
  const inMemory = process.env.RSS_IN_MEMORY === 'true';
  const nodeDefaults = process.env.RSS_NODE_DEFAULTS === 'true';
  const service = await spawnLocalService(
    {
      ...(inMemory ? { IN_MEMORY: 'true' } : { DATA_DIR: join(dir, 'dynamodb') }),
      LOCAL_EVENTS_FILE: join(dir, 'events.ndjson'),
      TABLE_NAME: 'bench-rss',
    },
    nodeDefaults ? [] : undefined,
  );
  try {
    const rows: (string | number)[][] = [];
    const sample = (label: string) => {
      const { rss, peak, anon, file } = memoryOf(service.pid);
      rows.push([label, rss, anon, file, peak]);
      console.log(
        `${label}: RSS ${fmt(rss)} MB (anonymous ${fmt(anon)}, file-backed ${fmt(file)}; peak ${fmt(peak)} MB)`,
      );
    };
    sample('started');
    const started = performance.now();
    let done = 0;
    await inParallel(
      Array.from({ length: DEVICES }, (_, i) => i),
      IN_FLIGHT,
      async (i) => {
        const status = await post(`${service.url}/v2/devices`, {
          id: `rss-${i}`,
          dms_id: `dms-${i % 10}`,
          tags: ['bench', `t${i % 7}`],
          metadata: { firmware_version: `1.${i % 5}.0`, site: `site-${i % 50}` },
        });
        if (status !== 201) throw new Error(`registration ${i}: ${status}`);
        if (++done % 5000 === 0)
          console.log(`${done}/${DEVICES} registered (${fmt(done / ((performance.now() - started) / 1000))}/s)`);
      },
    );
    const seconds = (performance.now() - started) / 1000;
    sample(`${DEVICES} registered`);
    // The publisher may lag behind the registrations: wait until the events file stops growing.
    let size = -1;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = statSync(join(dir, 'events.ndjson')).size;
      if (now === size) break;
      size = now;
    }
    sample('events published');
    printTable(
      `Local service memory, ${DEVICES} devices registered at ${fmt(DEVICES / seconds)}/s ` +
        `(${IN_FLIGHT} in flight, ${inMemory ? 'in memory' : 'data folder'}, ` +
        `${nodeDefaults ? "node's default heap settings" : 'the heap settings of npm start'})`,
      ['moment', 'RSS MB', 'anonymous MB', 'file-backed MB', 'peak MB'],
      rows,
    );
  } finally {
    service.kill('SIGTERM');
    await service.exited;
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
