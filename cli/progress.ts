/**
 * Progress on stderr: a bar with rate and ETA on a terminal (cli-progress), a plain line every few
 * seconds otherwise (logs, CI), so that stdout stays free for data (export) and the summary.
 */
import { SingleBar } from 'cli-progress';

export interface ProgressSnapshot {
  /** Items done so far. */
  done: number;
  /** Fraction of the input read, 0..1, when known (file size). */
  fraction?: number;
  /** Extra words for the line, e.g. `created 10 unchanged 2`. */
  detail?: string;
}

export interface Progress {
  update(snapshot: ProgressSnapshot): void;
  stop(): void;
}

/** "1m 05s", "12s", "2h 03m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Rate (items/s) and ETA (s) from the items done, the fraction read and the elapsed time. */
export function rateAndEta(
  done: number,
  fraction: number | undefined,
  elapsedSeconds: number,
): { rate: number; eta?: number } {
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
  if (fraction === undefined || fraction <= 0) return { rate };
  return { rate, eta: (elapsedSeconds * (1 - Math.min(1, fraction))) / fraction };
}

/** One progress line (the non-terminal form). */
export function progressLine(label: string, snapshot: ProgressSnapshot, elapsedSeconds: number): string {
  const { rate, eta } = rateAndEta(snapshot.done, snapshot.fraction, elapsedSeconds);
  const parts = [`${label}: ${snapshot.done}`];
  if (snapshot.fraction !== undefined) parts.push(`(${Math.floor(snapshot.fraction * 100)}%)`);
  parts.push(`${Math.round(rate)}/s`);
  if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  if (snapshot.detail) parts.push(`| ${snapshot.detail}`);
  return parts.join(' ');
}

export interface ProgressOptions {
  label: string;
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Seconds between plain lines; 0 prints none. */
  intervalSeconds: number;
  now?: () => number;
}

export function startProgress({ label, stream, intervalSeconds, now = Date.now }: ProgressOptions): Progress {
  const started = now();
  let last: ProgressSnapshot = { done: 0 };
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: `${label} [{bar}] {percentage}% | {done} | {rate}/s | ETA {eta_text} | {detail}`,
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
    });
    bar.start(1000, 0, { done: 0, rate: 0, eta_text: '?', detail: '' });
    return {
      update(snapshot) {
        last = snapshot;
        const { rate, eta } = rateAndEta(snapshot.done, snapshot.fraction, (now() - started) / 1000);
        bar.update(Math.round((snapshot.fraction ?? 0) * 1000), {
          done: snapshot.done,
          rate: Math.round(rate),
          eta_text: eta === undefined ? '?' : formatDuration(eta),
          detail: snapshot.detail ?? '',
        });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const timer =
    intervalSeconds > 0
      ? setInterval(
          () => stream.write(`${progressLine(label, last, (now() - started) / 1000)}\n`),
          intervalSeconds * 1000,
        )
      : undefined;
  timer?.unref();
  return {
    update(snapshot) {
      last = snapshot;
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
