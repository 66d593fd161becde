/** A CPU profile of a stretch of a bench (BENCH_PROFILE_DIR), readable in Chrome's DevTools or `speedscope`. */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

export function cpuProfiler() {
  let session: Session | undefined;
  return {
    async start() {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    },
    async stop(file: string) {
      if (!session) return;
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
    },
  };
}
