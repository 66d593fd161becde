/**
 * The local service's process settings (local/node-flags.ts): `npm start` and `npm run bench:scale`
 * run node with the heap flags, and a service started like `npm start` runs with a ≈ 1 GB V8 heap
 * limit (instead of the default, which depends on the machine's memory) and says so.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LOCAL_NODE_FLAGS } from '../../local/node-flags';
import { spawnLocalService } from '../support/child-service';

const scripts = (
  JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

describe('local service process', () => {
  it.each(['start', 'bench:scale'])(
    'npm run %s runs node with the heap flags, in one process (node --import tsx)',
    (name) => {
      const words = scripts[name]!.split(/\s+/);
      expect(words[0]).toBe('node');
      for (const flag of LOCAL_NODE_FLAGS) expect(words.indexOf(flag)).toBeGreaterThan(0);
      // Node options come before the entry point, or node hands them to the script as arguments.
      const entry = words.findIndex((word) => word.endsWith('.ts'));
      expect(words.slice(0, entry)).toEqual(expect.arrayContaining(['--import', 'tsx', ...LOCAL_NODE_FLAGS]));
    },
  );

  it('a service started as npm start starts it runs with a 1 GB heap limit and prints it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'local-process-'));
    const service = await spawnLocalService({
      DATA_DIR: join(dir, 'dynamodb'),
      LOCAL_EVENTS_FILE: '',
      TABLE_NAME: 'process',
    });
    try {
      const cmdline = readFileSync(`/proc/${service.pid}/cmdline`, 'utf8').split('\0');
      expect(cmdline).toEqual(expect.arrayContaining([...LOCAL_NODE_FLAGS]));
      // The line comes right after the listening line spawnLocalService waits for.
      for (let i = 0; i < 50 && !service.output.some((line) => line.startsWith('V8 heap limit')); i++)
        await new Promise((r) => setTimeout(r, 100));
      const line = service.output.find((l) => l.startsWith('V8 heap limit'));
      const limit = Number(/^V8 heap limit (\d+) MB$/.exec(line ?? '')?.[1]);
      // 1,024 MB of old generation plus the young generation's few MB; the default is ≥ 2 GB here.
      expect(limit).toBeGreaterThanOrEqual(1024);
      expect(limit).toBeLessThan(1100);
    } finally {
      service.kill('SIGTERM');
      await service.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
