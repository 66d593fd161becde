/** Small shared pieces: loading and error states, status badges and bars, dates. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { DEVICE_STATUSES } from '../../functions/domain/device';
import { ApiError } from './api';
import { href, navigate } from './router';
import type { DeviceStatus } from './types';

export { DEVICE_STATUSES };

export interface Loaded<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change (or on reload); the error is kept so the page can show it. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    // Drop the previous value: a page must never show (and act on) the last id's data while loading.
    setState({ loading: true });
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // The caller lists what `load` depends on; `tick` is a reload.
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.describe();
  return error instanceof Error ? error.message : String(error);
}

/**
 * An API failure, said plainly: never a blank page. A 409 INDEX_NOT_READY is no failure: the answer is
 * still being computed by the sweeper's back-fill (docs/api.md), so it says that and offers to ask again.
 */
export function ErrorBox({ what, error, retry }: { what: string; error: unknown; retry?: () => void }) {
  if (error instanceof ApiError && error.code === 'INDEX_NOT_READY')
    return (
      <div class="callout" role="status">
        <strong>Being computed: {what}.</strong> Devices stored before it existed are still being assessed in the
        background; it appears when that is done.{' '}
        {retry && (
          <button type="button" class="small secondary" onClick={retry}>
            Ask again
          </button>
        )}
      </div>
    );
  return (
    <div class="error" role="alert">
      <strong>Could not load {what}.</strong> {messageOf(error)}
    </div>
  );
}

/** Loading, error or content for one loaded value. */
export function Section<T>({
  what,
  loaded,
  children,
}: {
  what: string;
  loaded: Loaded<T>;
  children: (data: T) => ComponentChildren;
}) {
  if (loaded.error !== undefined) return <ErrorBox what={what} error={loaded.error} retry={loaded.reload} />;
  if (loaded.data === undefined)
    return (
      <p class="muted" aria-live="polite">
        Loading {what}…
      </p>
    );
  return <>{children(loaded.data)}</>;
}

export const statusLabel = (s: string) => s.replace(/_/g, ' ').toLowerCase();

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge s-${status}`}>{statusLabel(status)}</span>;
}

/** A stacked bar of a status distribution, with a text alternative. */
export function StatusBar({ distribution }: { distribution: Partial<Record<DeviceStatus, number>> }) {
  const total = DEVICE_STATUSES.reduce((n, s) => n + (distribution[s] ?? 0), 0);
  const text =
    DEVICE_STATUSES.filter((s) => distribution[s])
      .map((s) => `${statusLabel(s)} ${distribution[s]}`)
      .join(', ') || 'no devices';
  return (
    <span class="statusbar" role="img" aria-label={text} title={text}>
      {total > 0 &&
        DEVICE_STATUSES.filter((s) => distribution[s]).map((s) => (
          <span key={s} class={`s-${s}`} style={{ flexGrow: distribution[s] }} />
        ))}
    </span>
  );
}

/** What the colours of the status bars mean. */
export function StatusLegend() {
  return (
    <ul class="legend" aria-label="Status colours">
      {DEVICE_STATUSES.map((s) => (
        <li key={s} class={`s-${s}`}>
          {statusLabel(s)}
        </li>
      ))}
    </ul>
  );
}

/** A table head of plain column names. */
export function Head({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th key={c} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** The options of a select, value = label unless `label` says otherwise. */
export function Options({
  values,
  label = (v) => v,
}: {
  values: readonly string[];
  label?: (value: string) => string;
}) {
  return (
    <>
      {values.map((v) => (
        <option key={v} value={v}>
          {label(v)}
        </option>
      ))}
    </>
  );
}

/** One `dt`/`dd` pair, left out when there is no value; `code` for serials and hashes. */
export function Fact({ label, value, code }: { label: string; value: ComponentChildren; code?: 'plain' | 'hash' }) {
  if (value === undefined || value === null || value === false || value === '') return null;
  return (
    <>
      <dt>{label}</dt>
      <dd>{code ? <code class={code === 'hash' ? 'hash' : undefined}>{value}</code> : value}</dd>
    </>
  );
}

/** `2026-03-15 10:00 UTC` */
export function when(iso: string | number | undefined): string {
  if (iso === undefined) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `in 12 days`, `3 hours ago` */
export function relative(ms: number, now = Date.now()): string {
  const diff = ms - now;
  const abs = Math.abs(diff);
  const [n, unit] =
    abs >= 86_400_000
      ? [Math.round(abs / 86_400_000), 'day']
      : abs >= 3_600_000
        ? [Math.round(abs / 3_600_000), 'hour']
        : [Math.max(1, Math.round(abs / 60_000)), 'minute'];
  const text = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** Follows `next` bookmarks to the end (for small collections: groups, DMS policies). */
export async function allPages<T>(
  fetchPage: (bookmark: string) => Promise<{ next: string; list: T[] }>,
  maxPages = 20,
): Promise<T[]> {
  const out: T[] = [];
  let bookmark = '';
  for (let i = 0; i < maxPages; i++) {
    const page = await fetchPage(bookmark);
    out.push(...page.list);
    if (!page.next) break;
    bookmark = page.next;
  }
  return out;
}

/**
 * Bookmark paging kept in the URL: `bookmark` is this page's, each `prev` one of the pages before it, so
 * turning a page pushes a history entry and the back button steps back.
 */
export function Pager({ path, query, next }: { path: string[]; query: URLSearchParams; next: string }) {
  const prev = query.getAll('prev');
  const bookmark = query.get('bookmark');
  const turn = (to: string, prevs: string[]) => {
    const view = new URLSearchParams(query);
    view.delete('bookmark');
    view.delete('prev');
    if (to) view.set('bookmark', to);
    for (const p of prevs) view.append('prev', p);
    navigate(href(path, view));
  };
  return (
    <nav class="pager" aria-label="Pages">
      <button
        type="button"
        class="secondary"
        disabled={!bookmark}
        onClick={() => turn(prev[prev.length - 1] ?? '', prev.slice(0, -1))}
      >
        Previous page
      </button>
      <span class="muted">page {prev.length + (bookmark ? 2 : 1)}</span>
      <button type="button" disabled={!next} onClick={() => turn(next, bookmark !== null ? [...prev, bookmark] : prev)}>
        Next page
      </button>
    </nav>
  );
}
