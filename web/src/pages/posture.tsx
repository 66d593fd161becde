/**
 * Posture: the certificate inventory as charts (each key and issuer a drill-down to the device list),
 * the open findings per check (each a paged list of its devices), and the remediation jobs with their
 * progress and per-device outcomes. A job starts as a dry run, from a finding or from list filters, and
 * only a finished dry run offers to run it for real; a running job can be cancelled. Answers the
 * back-fill has not finished yet (409 INDEX_NOT_READY) show as being computed (ErrorBox).
 */
import { useEffect, useState } from 'preact/hooks';
import { INDEXED_INVENTORY_DIMENSIONS, INVENTORY_DIMENSIONS } from '../../../functions/domain/inventory';
import { DEFAULT_JOB_RATE, FINISHED_JOB_STATUSES, JOB_ACTION_TYPES } from '../../../functions/domain/jobs';
import { postureCheckNames } from '../../../functions/domain/posture-checks';
import { REVOCATION_REASONS } from '../../../functions/domain/revocation';
import { api, get, seg } from '../api';
import { CountsChart } from '../chart';
import { href, navigate } from '../router';
import type {
  CertificateInventory,
  FindingCounts,
  FindingRow,
  InventoryDimension,
  Job,
  JobAction,
  JobOutcome,
  ListPage,
} from '../types';
import { Head, type Loaded, messageOf, Options, Pager, Section, useLoad, when } from '../ui';

const DIMENSION_TITLES: Record<InventoryDimension, string> = {
  key: 'Key algorithm and size',
  signature: 'Signature algorithm',
  issuer: 'Issuer',
  validity: 'Lifetime',
};

/** What each check means, for people (the API names them only). */
const CHECK_TITLES: Record<string, string> = {
  'weak-key': 'key weaker than the policy allows',
  'weak-signature': 'signed with a weak hash',
  'issuer-not-allowed': 'issued by a CA the policy does not allow',
  'validity-too-long': 'lifetime longer than the policy allows',
  'expires-after-issuer': 'outlives its issuer’s certificate',
  'certificate-too-old': 'older than the policy’s maximum certificate age',
  'shared-certificate': 'the same certificate on more than one device',
  'shared-key': 'the same public key on more than one device',
  'revoked-still-active-in-iot': 'revoked here, still active in AWS IoT',
};

const finished = (job: Job) => FINISHED_JOB_STATUSES.has(job.status);
const processed = (job: Job) => job.counts.done + job.counts.skipped + job.counts.failed;

/**
 * Like useLoad, but asks again every second while `again` says the answer is still moving (a running
 * job), keeping the last answer on screen meanwhile instead of blanking it.
 */
function usePolled<T>(load: () => Promise<T>, deps: unknown[], again: (data: T) => boolean): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState({ loading: true });
    const round = () =>
      load().then(
        (data) => {
          if (!live) return;
          setState({ data, loading: false });
          if (again(data)) timer = setTimeout(round, 1000);
        },
        (error: unknown) => live && setState({ error, loading: false }),
      );
    void round();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

function Dimension({ by, slot }: { by: InventoryDimension; slot: string }) {
  const inventory = useLoad(
    () => get<CertificateInventory>('/stats/certificates', { by, slot }).then((r) => r.data),
    [by, slot],
  );
  // Only the identity slot's key and issuer are indexed list filters (docs/api.md, Certificate inventory).
  const drill =
    slot === 'identity' && (INDEXED_INVENTORY_DIMENSIONS as readonly string[]).includes(by)
      ? (value: string) => href(['devices'], { filter: `identity.${by}[eq]${value}` })
      : undefined;
  return (
    <div class="card">
      <h3>{DIMENSION_TITLES[by]}</h3>
      <Section what={`the inventory by ${by}`} loaded={inventory}>
        {(inv) => (
          <>
            <p class="muted">
              {inv.total} certificate{inv.total === 1 ? '' : 's'} in service, as of {when(inv.consistent_as_of)}
            </p>
            <CountsChart title={DIMENSION_TITLES[by]} counts={inv.counts} link={drill} />
          </>
        )}
      </Section>
    </div>
  );
}

function Inventory({ slot }: { slot: string }) {
  const [value, setValue] = useState(slot);
  return (
    <section aria-labelledby="inventory">
      <h2 id="inventory">Certificate inventory</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(href(['posture'], value.trim() && value.trim() !== 'identity' ? { slot: value.trim() } : {}));
        }}
      >
        <label for="inventory-slot">Slot</label>
        <input id="inventory-slot" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit">Show</button>
      </form>
      <div class="grid">
        {INVENTORY_DIMENSIONS.map((by) => (
          <Dimension key={`${by} ${slot}`} by={by} slot={slot} />
        ))}
      </div>
    </section>
  );
}

function Findings() {
  const counts = useLoad(() => get<FindingCounts>('/findings').then((r) => r.data), []);
  return (
    <section aria-labelledby="findings">
      <h2 id="findings">Findings</h2>
      <Section what="the findings" loaded={counts}>
        {(f) => (
          <>
            <div class="scroll">
              <table class="findings">
                <Head columns={['Check', 'What it means', 'Open']} />
                <tbody>
                  {f.checks.map((c) => (
                    <tr key={c.check} class={c.open > 0 ? 'open' : undefined}>
                      <td>
                        <code>{c.check}</code>
                      </td>
                      <td>{CHECK_TITLES[c.check] ?? ''}</td>
                      <td>
                        {c.open > 0 ? (
                          <a
                            href={href(['posture', 'findings', c.check])}
                            aria-label={`${c.open} open ${c.check}: list them`}
                          >
                            {c.open}
                          </a>
                        ) : (
                          0
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p class="muted">As of {when(f.consistent_as_of)}.</p>
          </>
        )}
      </Section>
    </section>
  );
}

export function describeAction(action: JobAction): string {
  switch (action.type) {
    case 'revoke-identity':
      return `revoke the identity (${action.reason})`;
    case 'decommission':
      return 'decommission';
    case 'add-tags':
      return `add tags ${action.tags.join(', ')}`;
    case 'remove-tags':
      return `remove tags ${action.tags.join(', ')}`;
    case 'merge-metadata':
      return `merge metadata ${JSON.stringify(action.metadata)}`;
  }
}

const describeSelection = (job: Pick<Job, 'filter' | 'finding'>) =>
  job.finding ? `devices with an open ${job.finding} finding` : (job.filter ?? []).join(' and ');

function JobBadge({ job }: { job: Job }) {
  return (
    <span class={`badge j-${job.status}`}>
      {job.status.toLowerCase()}
      {job.dry_run ? ' (dry run)' : ''}
    </span>
  );
}

function Progress({ job }: { job: Job }) {
  const { matched, done, skipped, failed } = job.counts;
  if (job.dry_run) return <span>{matched} matched</span>;
  const text = `${processed(job)} of ${matched} matched: ${done} done, ${skipped} skipped, ${failed} failed`;
  return (
    <span class="progress">
      <progress max={Math.max(matched, 1)} value={processed(job)} aria-label={text} />
      <span>{text}</span>
    </span>
  );
}

function Jobs({ query }: { query: URLSearchParams }) {
  const bookmark = query.get('bookmark') ?? '';
  const jobs = usePolled(
    () => get<ListPage<Job>>('/jobs', { page_size: '10', ...(bookmark ? { bookmark } : {}) }).then((r) => r.data),
    [bookmark],
    (page) => page.list.some((j) => !finished(j)),
  );
  return (
    <section aria-labelledby="jobs">
      <h2 id="jobs">Remediation jobs</h2>
      <p>
        <a class="button" href={href(['posture', 'jobs', 'new'])}>
          New job…
        </a>
      </p>
      <Section what="the jobs" loaded={jobs}>
        {(page) => (
          <>
            <div class="scroll">
              <table class="jobs">
                <Head columns={['Job', 'Status', 'Action', 'Devices', 'Progress', 'Created']} />
                <tbody>
                  {page.list.map((j) => (
                    <tr key={j.id}>
                      <td>
                        <a href={href(['posture', 'jobs', j.id])}>
                          <code>{j.id}</code>
                        </a>
                      </td>
                      <td>
                        <JobBadge job={j} />
                      </td>
                      <td>{describeAction(j.action)}</td>
                      <td>{describeSelection(j)}</td>
                      <td>
                        <Progress job={j} />
                      </td>
                      <td>{when(j.created_at)}</td>
                    </tr>
                  ))}
                  {page.list.length === 0 && (
                    <tr>
                      <td colSpan={6}>No job yet.</td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
            <Pager path={['posture']} query={query} next={page.next} />
          </>
        )}
      </Section>
    </section>
  );
}

export function PosturePage({ query }: { query: URLSearchParams }) {
  const slot = query.get('slot') || 'identity';
  return (
    <>
      <h1>Posture</h1>
      <Findings />
      <Inventory key={slot} slot={slot} />
      <Jobs query={query} />
    </>
  );
}

/** The devices of one check, paged by bookmark in the URL, each a link to its device page. */
export function FindingPage({ check, query }: { check: string; query: URLSearchParams }) {
  const bookmark = query.get('bookmark') ?? '';
  const page = useLoad(
    () =>
      get<ListPage<FindingRow>>(`/findings/${seg(check)}`, { page_size: '25', ...(bookmark ? { bookmark } : {}) }).then(
        (r) => r.data,
      ),
    [check, bookmark],
  );
  return (
    <>
      <p>
        <a href={href(['posture'])}>← Posture</a>
      </p>
      <h1>
        Finding <code>{check}</code>
      </h1>
      {CHECK_TITLES[check] && <p class="muted">What it means: {CHECK_TITLES[check]}.</p>}
      <p>
        <a class="button" href={href(['posture', 'jobs', 'new'], { finding: check })}>
          Act on these devices…
        </a>
      </p>
      <Section what={`the devices with ${check}`} loaded={page}>
        {(p) => (
          <>
            <div class="scroll">
              <table class="finding-devices">
                <Head columns={['Device', 'Slot', 'Since', 'Detail']} />
                <tbody>
                  {p.list.map((row) => (
                    <tr key={`${row.device_id} ${row.slot}`}>
                      <td>
                        <a href={href(['devices', row.device_id])}>{row.device_id}</a>
                      </td>
                      <td>{row.slot}</td>
                      <td>{when(row.since)}</td>
                      <td>{row.detail}</td>
                    </tr>
                  ))}
                  {p.list.length === 0 && (
                    <tr>
                      <td colSpan={4}>No device has this finding open.</td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
            <Pager path={['posture', 'findings', check]} query={query} next={p.next} />
          </>
        )}
      </Section>
    </>
  );
}

type Selection = { finding: string } | { filter: string[] };

const selectionOf = (job: Pick<Job, 'filter' | 'finding'>): Selection =>
  job.finding ? { finding: job.finding } : { filter: job.filter ?? [] };

/** POST /v2/jobs, then the job's page. */
async function startJob(selection: Selection, action: JobAction, dryRun: boolean, rate: number): Promise<void> {
  const { data } = await api<Job>('POST', '/jobs', {
    body: { ...selection, action, dry_run: dryRun, rate_per_second: rate },
  });
  navigate(href(['posture', 'jobs', data.id]));
}

/** The action's form fields as the API's action; a malformed metadata object is said before any request. */
function actionOf(type: string, reason: string, tags: string, metadata: string): JobAction {
  const list = tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  switch (type) {
    case 'revoke-identity':
      return { type, reason: reason as (typeof REVOCATION_REASONS)[number] };
    case 'add-tags':
    case 'remove-tags':
      return { type, tags: list };
    case 'merge-metadata': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(metadata);
      } catch {
        throw new Error('Metadata must be a JSON object, e.g. {"quarantined": true}.');
      }
      return { type, metadata: parsed as Record<string, unknown> };
    }
    default:
      return { type: 'decommission' };
  }
}

/** A new job, from a finding (`?finding=`) or list filters (`?filter=`, repeated): always a dry run first. */
export function NewJobPage({ query }: { query: URLSearchParams }) {
  const [by, setBy] = useState(query.get('finding') || !query.getAll('filter').length ? 'finding' : 'filter');
  const [finding, setFinding] = useState(query.get('finding') ?? postureCheckNames[0]);
  const [filters, setFilters] = useState(query.getAll('filter').join('\n'));
  const [type, setType] = useState<string>('add-tags');
  const [reason, setReason] = useState('KeyCompromise');
  const [tags, setTags] = useState('');
  const [metadata, setMetadata] = useState('{}');
  const [rate, setRate] = useState(String(DEFAULT_JOB_RATE));
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const submit = async (e: Event) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      const selection: Selection =
        by === 'finding'
          ? { finding }
          : {
              filter: filters
                .split('\n')
                .map((f) => f.trim())
                .filter(Boolean),
            };
      await startJob(selection, actionOf(type, reason, tags, metadata), true, Number(rate));
    } catch (error) {
      setState({ busy: false, error: `The dry run was not started: ${messageOf(error)}` });
    }
  };
  return (
    <>
      <p>
        <a href={href(['posture'])}>← Posture</a>
      </p>
      <h1>New remediation job</h1>
      <form class="card job-form" onSubmit={(e) => void submit(e)} aria-label="New remediation job">
        <fieldset>
          <legend>Devices</legend>
          <label class="choice">
            <input type="radio" name="by" checked={by === 'finding'} onChange={() => setBy('finding')} /> with an open
            finding
          </label>
          <label for="job-finding">Finding</label>
          <select
            id="job-finding"
            value={finding}
            disabled={by !== 'finding'}
            onChange={(e) => setFinding(e.currentTarget.value)}
          >
            <Options values={[...new Set([...postureCheckNames, finding])]} />
          </select>
          <label class="choice">
            <input type="radio" name="by" checked={by === 'filter'} onChange={() => setBy('filter')} /> matching list
            filters
          </label>
          <label for="job-filters">Filters, one a line (as the device list spells them)</label>
          <textarea
            id="job-filters"
            rows={3}
            value={filters}
            disabled={by !== 'filter'}
            placeholder="identity.key[eq]RSA-1024"
            spellcheck={false}
            onInput={(e) => setFilters(e.currentTarget.value)}
          />
        </fieldset>
        <fieldset>
          <legend>Action</legend>
          <label for="job-action">Action</label>
          <select id="job-action" value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <Options values={JOB_ACTION_TYPES} />
          </select>
          {type === 'revoke-identity' && (
            <>
              <label for="job-reason">Reason</label>
              <select id="job-reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
                <Options values={REVOCATION_REASONS} />
              </select>
            </>
          )}
          {(type === 'add-tags' || type === 'remove-tags') && (
            <>
              <label for="job-tags">Tags (comma-separated)</label>
              <input id="job-tags" value={tags} onInput={(e) => setTags(e.currentTarget.value)} required />
            </>
          )}
          {type === 'merge-metadata' && (
            <>
              <label for="job-metadata">Metadata merge patch (JSON object)</label>
              <textarea
                id="job-metadata"
                rows={3}
                value={metadata}
                spellcheck={false}
                onInput={(e) => setMetadata(e.currentTarget.value)}
              />
            </>
          )}
          <label for="job-rate">Devices per second at most</label>
          <input
            id="job-rate"
            type="number"
            min={1}
            max={1000}
            value={rate}
            onInput={(e) => setRate(e.currentTarget.value)}
          />
        </fieldset>
        <p class="muted">
          A dry run changes nothing: it counts the devices the job would act on. Its page then offers to run it.
        </p>
        <button type="submit" disabled={state.busy}>
          Start a dry run
        </button>
        {state.error && (
          <p class="error" role="alert">
            {state.error}
          </p>
        )}
      </form>
    </>
  );
}

/** Runs a finished dry run's job for real, after a second click naming what it will do. */
function RunForReal({ job }: { job: Job }) {
  const [asked, setAsked] = useState(false);
  const [error, setError] = useState<string>();
  const n = job.counts.matched;
  const run = () =>
    startJob(selectionOf(job), job.action, false, job.rate_per_second).catch((e: unknown) =>
      setError(`Not started: ${messageOf(e)}`),
    );
  return (
    <div class="card">
      <p>
        The dry run matched <strong>{n}</strong> device{n === 1 ? '' : 's'}.
      </p>
      {!asked ? (
        <button type="button" disabled={n === 0} onClick={() => setAsked(true)}>
          Run it for real…
        </button>
      ) : (
        <p>
          {describeAction(job.action)} on the devices it matches now ({n} in the dry run)?{' '}
          <button
            type="button"
            class={job.action.type === 'add-tags' || job.action.type === 'merge-metadata' ? undefined : 'danger'}
            onClick={() => void run()}
          >
            Start the job
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setAsked(false)}>
            Not now
          </button>
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function Outcomes({ job, query }: { job: Job; query: URLSearchParams }) {
  const bookmark = query.get('bookmark') ?? '';
  const running = !finished(job);
  // Asked again each second while the job runs, and once more when it finishes.
  const page = usePolled(
    () =>
      get<ListPage<JobOutcome>>(`/jobs/${seg(job.id)}/devices`, {
        page_size: '25',
        ...(bookmark ? { bookmark } : {}),
      }).then((r) => r.data),
    [job.id, bookmark, running],
    () => running,
  );
  return (
    <section aria-labelledby="outcomes">
      <h2 id="outcomes">Devices</h2>
      <Section what="the job's devices" loaded={page}>
        {(p) => (
          <>
            <div class="scroll">
              <table class="outcomes">
                <Head columns={['Device', 'Outcome', 'Detail', 'At']} />
                <tbody>
                  {p.list.map((o) => (
                    <tr key={o.device_id}>
                      <td>
                        <a href={href(['devices', o.device_id])}>{o.device_id}</a>
                      </td>
                      <td>
                        <span class={`badge o-${o.outcome}`}>{o.outcome}</span>
                      </td>
                      <td>{o.detail ?? ''}</td>
                      <td>{when(o.at)}</td>
                    </tr>
                  ))}
                  {p.list.length === 0 && (
                    <tr>
                      <td colSpan={4}>No device worked yet.</td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
            <Pager path={['posture', 'jobs', job.id]} query={query} next={p.next} />
          </>
        )}
      </Section>
    </section>
  );
}

/** One job: status, progress (asked again each second until it finishes), cancel, outcomes by device. */
export function JobPage({ id, query }: { id: string; query: URLSearchParams }) {
  const job = usePolled(
    () => get<Job>(`/jobs/${seg(id)}`).then((r) => r.data),
    [id],
    (j) => !finished(j),
  );
  const [cancel, setCancel] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const doCancel = async () => {
    setCancel({ busy: true });
    try {
      await api('POST', `/jobs/${seg(id)}/cancel`);
      setCancel({ busy: false });
      job.reload();
    } catch (error) {
      setCancel({ busy: false, error: `Not cancelled: ${messageOf(error)}` });
    }
  };
  return (
    <>
      <p>
        <a href={href(['posture'])}>← Posture</a>
      </p>
      <h1>
        Job <code>{id}</code>
      </h1>
      <Section what={`job ${id}`} loaded={job}>
        {(j) => (
          <>
            <section class="card" aria-labelledby="job-status">
              <h2 id="job-status">
                Status <JobBadge job={j} />
              </h2>
              <dl class="facts">
                <dt>Devices</dt>
                <dd>{describeSelection(j)}</dd>
                <dt>Action</dt>
                <dd>{describeAction(j.action)}</dd>
                <dt>Rate</dt>
                <dd>{j.rate_per_second} devices a second at most</dd>
                <dt>Progress</dt>
                <dd id="job-progress">
                  <Progress job={j} />
                </dd>
                <dt>Created</dt>
                <dd>{when(j.created_at)}</dd>
                <dt>Updated</dt>
                <dd>{when(j.updated_at)}</dd>
                {j.error && (
                  <>
                    <dt>Error</dt>
                    <dd>{j.error}</dd>
                  </>
                )}
              </dl>
              {!finished(j) && (
                <button type="button" class="danger" disabled={cancel.busy} onClick={() => void doCancel()}>
                  Cancel the job
                </button>
              )}
              {cancel.error && (
                <p class="error" role="alert">
                  {cancel.error}
                </p>
              )}
            </section>
            {j.dry_run && j.status === 'SUCCEEDED' && <RunForReal job={j} />}
            <Outcomes job={j} query={query} />
          </>
        )}
      </Section>
    </>
  );
}
