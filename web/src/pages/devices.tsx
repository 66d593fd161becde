/**
 * Devices: the list with the contract's filters as form controls, sorting and bookmark paging. The
 * view is the URL (`#/devices?status=ACTIVE&sort_by=id&bookmark=...&prev=...`): applying filters or
 * turning a page pushes a history entry, so links can be shared and the back button steps back.
 */
import { useState } from 'preact/hooks';
import { METADATA_OPS } from '../../../functions/domain/filters';
import { get, seg } from '../api';
import { href, navigate } from '../router';
import type { Device, DmsPolicy, ListPage } from '../types';
import { DEVICE_STATUSES, Options, Pager, Section, StatusBadge, statusLabel, useLoad, when } from '../ui';

const SORTS = [
  { value: 'creation_timestamp', label: 'Created' },
  { value: 'id', label: 'Id' },
  { value: 'identity.expiration_date', label: 'Identity expiry' },
];
const PAGE_SIZES = ['10', '25', '50', '100'];

/** The dashboard's view parameters that narrow the list (paging and sorting aside). */
const FILTER_PARAMS = ['status', 'dms', 'tag', 'id', 'meta', 'expires_before', 'group', 'filter'] as const;

/** The API query of a view: each control becomes one `filter=field[op]value` (docs/api.md, Filters and sort). */
export function apiQuery(view: URLSearchParams): URLSearchParams {
  const q = new URLSearchParams();
  const filter = (f: string) => q.append('filter', f);
  const v = (name: string) => view.get(name) ?? '';
  if (v('status')) filter(`status[eq]${v('status')}`);
  if (v('dms')) filter(`dms_owner[eq]${v('dms')}`);
  if (v('tag')) filter(`tags[ct]${v('tag')}`);
  if (v('id')) filter(`id[ct_ic]${v('id')}`);
  for (const m of view.getAll('meta')) if (m) filter(`metadata.${m}`);
  if (v('expires_before')) filter(`identity.expiration_date[bf]${v('expires_before')}T00:00:00Z`);
  // A list filter as the API spells it: the Posture page's drill-down (`identity.key[eq]RSA-1024`).
  for (const f of view.getAll('filter')) if (f) filter(f);
  for (const name of ['sort_by', 'sort_mode', 'page_size', 'bookmark']) if (v(name)) q.set(name, v(name));
  return q;
}

/** The list filters of a view, as a new job's selection (`#/posture/jobs/new?filter=…`). */
function jobQuery(view: URLSearchParams): URLSearchParams {
  return new URLSearchParams(
    apiQuery(view)
      .getAll('filter')
      .map((f) => ['filter', f]),
  );
}

interface MetaRow {
  key: string;
  op: string;
  value: string;
}

function metaRows(view: URLSearchParams): MetaRow[] {
  return view.getAll('meta').map((m) => {
    const match = /^([^[\]]+)\[([^[\]]+)\]([\s\S]*)$/.exec(m);
    return match ? { key: match[1]!, op: match[2]!, value: match[3]! } : { key: m, op: 'eq', value: '' };
  });
}

function Filters({ view, dms }: { view: URLSearchParams; dms: string[] }) {
  const [form, setForm] = useState(() =>
    Object.fromEntries(
      ['status', 'dms', 'tag', 'id', 'expires_before', 'sort_by', 'sort_mode', 'page_size'].map((k) => [
        k,
        view.get(k) ?? '',
      ]),
    ),
  );
  const [meta, setMeta] = useState<MetaRow[]>(() => metaRows(view));
  const field = (name: string) => ({
    id: `f-${name}`,
    name,
    value: form[name] ?? '',
    onInput: (e: Event) => setForm({ ...form, [name]: (e.currentTarget as HTMLInputElement).value }),
  });
  const apply = (e: Event) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, value] of Object.entries(form)) if (value) next.set(k, value);
    for (const m of meta)
      if (m.key.trim())
        next.append('meta', `${m.key.trim()}[${m.op}]${m.op === 'exists' ? m.value || 'true' : m.value}`);
    if (view.get('group')) next.set('group', view.get('group')!);
    for (const f of view.getAll('filter')) next.append('filter', f);
    navigate(href(['devices'], next));
  };
  return (
    <form class="filters" onSubmit={apply} aria-label="Filter and sort devices">
      <div>
        <label for="f-status">Status</label>
        <select {...field('status')} onChange={field('status').onInput}>
          <option value="">any</option>
          <Options values={DEVICE_STATUSES} label={statusLabel} />
        </select>
      </div>
      <div>
        <label for="f-dms">DMS</label>
        <input {...field('dms')} list="dms-list" placeholder="dms id" />
        <datalist id="dms-list">
          {dms.map((d) => (
            <option key={d} value={d} />
          ))}
        </datalist>
      </div>
      <div>
        <label for="f-tag">Tag</label>
        <input {...field('tag')} placeholder="has tag" />
      </div>
      <div>
        <label for="f-id">Id contains</label>
        <input {...field('id')} />
      </div>
      <div>
        <label for="f-expires_before">Identity expires before</label>
        <input type="date" {...field('expires_before')} />
      </div>
      <fieldset class="meta">
        <legend>Metadata</legend>
        {meta.map((m, i) => (
          <div class="row" key={i}>
            <label>
              <span class="sr-only">Metadata key {i + 1}</span>
              <input
                value={m.key}
                placeholder="key.path"
                onInput={(e) => setMeta(meta.map((x, j) => (j === i ? { ...x, key: e.currentTarget.value } : x)))}
              />
            </label>
            <label>
              <span class="sr-only">Operator {i + 1}</span>
              <select
                value={m.op}
                onChange={(e) => setMeta(meta.map((x, j) => (j === i ? { ...x, op: e.currentTarget.value } : x)))}
              >
                <Options values={METADATA_OPS} />
              </select>
            </label>
            <label>
              <span class="sr-only">Value {i + 1}</span>
              <input
                value={m.value}
                placeholder="value"
                onInput={(e) => setMeta(meta.map((x, j) => (j === i ? { ...x, value: e.currentTarget.value } : x)))}
              />
            </label>
            <button
              type="button"
              class="link"
              onClick={() => setMeta(meta.filter((_, j) => j !== i))}
              aria-label={`Remove metadata filter ${i + 1}`}
            >
              remove
            </button>
          </div>
        ))}
        <button type="button" class="secondary" onClick={() => setMeta([...meta, { key: '', op: 'eq', value: '' }])}>
          Add metadata filter
        </button>
      </fieldset>
      <div>
        <label for="f-sort_by">Sort by</label>
        <select {...field('sort_by')} onChange={field('sort_by').onInput}>
          {SORTS.map((s) => (
            <option key={s.value} value={s.value === 'creation_timestamp' ? '' : s.value}>
              {s.label}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="f-sort_mode">Order</label>
        <select {...field('sort_mode')} onChange={field('sort_mode').onInput}>
          <option value="">ascending</option>
          <option value="desc">descending</option>
        </select>
      </div>
      <div>
        <label for="f-page_size">Per page</label>
        <select {...field('page_size')} onChange={field('page_size').onInput}>
          {PAGE_SIZES.map((n) => (
            <option key={n} value={n === '25' ? '' : n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <div class="actions">
        <button type="submit">Apply</button>
        <a class="button secondary" href={href(['devices'])}>
          Clear
        </a>
      </div>
    </form>
  );
}

/** A column header that sorts by its field (again: the other way), back to the first page. */
function SortHeader({ view, field, label }: { view: URLSearchParams; field: string; label: string }) {
  const current = view.get('sort_by') || 'creation_timestamp';
  const desc = view.get('sort_mode') === 'desc';
  const active = current === field;
  const next = new URLSearchParams(view);
  for (const k of ['bookmark', 'prev', 'sort_by', 'sort_mode']) next.delete(k);
  if (field !== 'creation_timestamp') next.set('sort_by', field);
  if (active && !desc) next.set('sort_mode', 'desc');
  return (
    <th scope="col" aria-sort={active ? (desc ? 'descending' : 'ascending') : undefined}>
      <a href={href(['devices'], next)} title={`Sort by ${label.toLowerCase()}`}>
        {label}
        {active ? (desc ? ' ▼' : ' ▲') : ''}
      </a>
    </th>
  );
}

export function DevicesPage({ query }: { query: URLSearchParams }) {
  const key = query.toString();
  const group = query.get('group');
  const page = useLoad(
    () =>
      get<ListPage<Device>>(group ? `/device-groups/${seg(group)}/devices` : '/devices', apiQuery(query)).then(
        (r) => r.data,
      ),
    [key],
  );
  const dms = useLoad(() => get<ListPage<DmsPolicy>>('/dms').then((r) => r.data.list.map((p) => p.id)), []);
  const active = FILTER_PARAMS.filter((p) => query.getAll(p).some(Boolean));
  return (
    <>
      <h1>Devices{group ? ` of group ${group}` : ''}</h1>
      {/* Keyed by the view: the back button resets the controls to the view it returns to. */}
      <Filters key={key} view={query} dms={dms.data ?? []} />
      <Section what="the devices" loaded={page}>
        {(p) => (
          <>
            <p class="muted" aria-live="polite">
              {p.list.length} device{p.list.length === 1 ? '' : 's'} on this page
              {active.length ? ` matching ${active.map((a) => query.getAll(a).join(', ')).join(' · ')}` : ''}
              {page.loading ? ' (loading…)' : ''}
            </p>
            <div class="scroll">
              <table class="devices">
                <thead>
                  <tr>
                    <SortHeader view={query} field="id" label="Id" />
                    <th scope="col">Status</th>
                    <th scope="col">DMS</th>
                    <th scope="col">Tags</th>
                    <SortHeader view={query} field="identity.expiration_date" label="Identity expires" />
                    <SortHeader view={query} field="creation_timestamp" label="Created" />
                  </tr>
                </thead>
                <tbody>
                  {p.list.map((d) => (
                    <tr key={d.id}>
                      <td>
                        <a href={href(['devices', d.id])}>{d.id}</a>
                      </td>
                      <td>
                        <StatusBadge status={d.status} />
                      </td>
                      <td>{d.dms_owner}</td>
                      <td>{d.tags.join(', ')}</td>
                      <td>{when(d.identity?.expiration_date)}</td>
                      <td>{when(d.creation_timestamp)}</td>
                    </tr>
                  ))}
                  {p.list.length === 0 && (
                    <tr>
                      <td colSpan={6}>No device matches.</td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
            <Pager path={['devices']} query={query} next={p.next} />
            {!group && active.length > 0 && (
              <p>
                <a href={href(['posture', 'jobs', 'new'], jobQuery(query))}>
                  Start a job on the devices these filters match…
                </a>
              </p>
            )}
          </>
        )}
      </Section>
    </>
  );
}
