/**
 * Device: status with its reason, slots and every stored version (certificate details, PEM download),
 * the full event timeline, and the actions: edit tags/metadata (If-Match, a clear 412), bind a PEM,
 * revoke with a reason, decommission after confirmation.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { REVOCATION_REASONS } from '../../../functions/domain/revocation';
import { api, ApiError, get, seg } from '../api';
import { href } from '../router';
import { statusReason } from '../status-reason';
import type { Device, DeviceEvent, DmsPolicy, ListPage, Slot, SlotVersion } from '../types';
import { ErrorBox, Fact, Head, messageOf, Options, Section, StatusBadge, useLoad, when } from '../ui';

interface Loaded {
  device: Device;
  etag?: string;
  policy?: DmsPolicy;
  versions: Record<string, SlotVersion[]>;
}

function slotsOf(device: Device): [string, Slot][] {
  return [
    ...(device.identity ? [['identity', device.identity] as [string, Slot]] : []),
    ...Object.entries(device.slots),
  ];
}

async function load(id: string): Promise<Loaded> {
  const { data: device, etag } = await get<Device>(`/devices/${seg(id)}`);
  const policy = await get<DmsPolicy>(`/dms/${seg(device.dms_owner)}`).then(
    (r) => r.data,
    () => undefined,
  );
  const versions: Record<string, SlotVersion[]> = {};
  await Promise.all(
    slotsOf(device).map(async ([name, slot]) => {
      const numbers = Object.keys(slot.secrets)
        .map(Number)
        .sort((a, b) => b - a);
      versions[name] = await Promise.all(
        numbers.map((n) =>
          get<SlotVersion>(`/devices/${seg(id)}/slots/${seg(name)}/versions/${n}`).then((r) => r.data),
        ),
      );
    }),
  );
  return { device, etag, policy, versions };
}

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-pem-file' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function Versions({
  device,
  name,
  slot,
  versions,
}: {
  device: Device;
  name: string;
  slot: Slot;
  versions: SlotVersion[];
}) {
  return (
    <div class="card slot">
      <h3>
        {name === 'identity' ? 'Identity' : `Slot ${name}`} <StatusBadge status={slot.status} />
      </h3>
      <p class="muted">
        {slot.type}, active version {slot.active_version}
        {slot.expiration_date ? `, expires ${when(slot.expiration_date)}` : ''}
      </p>
      <ol class="versions" reversed>
        {versions.map((v) => (
          <li key={v.version} aria-label={`version ${v.version}`}>
            <div class="version-head">
              <strong>Version {v.version}</strong> <span class={`badge v-${v.status}`}>{v.status.toLowerCase()}</span>
              {v.revocation_reason && (
                <span class="muted">
                  {' '}
                  reason {v.revocation_reason}
                  {v.revoked_at ? `, ${when(v.revoked_at)}` : ''}
                </span>
              )}
              {v.certificate && (
                <button
                  type="button"
                  class="secondary small"
                  onClick={() => download(`${device.id}-${name}-v${v.version}.pem`, v.certificate!)}
                >
                  Download PEM
                </button>
              )}
            </div>
            <dl class="facts">
              <Fact label="Subject" value={v.subject} />
              <Fact label="Issuer" value={v.issuer} />
              <Fact label="Valid" value={v.not_before && `${when(v.not_before)} – ${when(v.not_after)}`} />
              <Fact label="Expires" value={!v.not_before && v.expiration_date && when(v.expiration_date)} />
              <Fact label="Serial" value={v.serial_number} code="plain" />
              <Fact label="SHA-256" value={v.sha256_fingerprint} code="hash" />
              <Fact label="Public key SHA-256" value={v.public_key_sha256} code="hash" />
              <Fact label="Secret" value={v.secret} code="plain" />
            </dl>
          </li>
        ))}
      </ol>
    </div>
  );
}

function Timeline({ id, refresh }: { id: string; refresh: number }) {
  const [pages, setPages] = useState<{ list: DeviceEvent[]; next: string }>({ list: [], next: '' });
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const more = async (bookmark: string, reset: boolean) => {
    setLoading(true);
    try {
      const { data } = await get<ListPage<DeviceEvent>>(`/devices/${seg(id)}/events`, {
        page_size: '50',
        ...(bookmark ? { bookmark } : {}),
      });
      setPages((p) => ({ list: reset ? data.list : [...p.list, ...data.list], next: data.next }));
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => void more('', true), [id, refresh]);
  return (
    <section aria-labelledby="timeline">
      <h2 id="timeline">Event timeline</h2>
      {error !== undefined && <ErrorBox what="the events" error={error} />}
      <ol class="timeline">
        {pages.list.map((e) => (
          <li key={`${e.timestamp}-${e.type}`}>
            <time dateTime={e.timestamp}>{when(e.timestamp)}</time> <span class="event-type">{e.type}</span>
            {e.slot ? <span class="muted"> [{e.slot}]</span> : null} {e.description}
          </li>
        ))}
      </ol>
      {loading && <p class="muted">Loading events…</p>}
      {pages.next && (
        <button type="button" class="secondary" onClick={() => void more(pages.next, false)}>
          Load older events
        </button>
      )}
    </section>
  );
}

/**
 * Runs one action; success goes to the page's notice (the forms remount with the new version), a
 * failure stays in the form as a message naming what the API said (a 412 explained).
 */
function useAction(onDone: (notice: string) => void) {
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  const run = async (
    label: string,
    action: () => Promise<unknown>,
    explain?: (e: ApiError) => Promise<string | undefined>,
  ) => {
    setState({ busy: true });
    try {
      await action();
      setState({ busy: false });
      onDone(`${label}: done.`);
    } catch (error) {
      const special = error instanceof ApiError && explain ? await explain(error) : undefined;
      setState({ busy: false, error: special ?? `${label} failed: ${messageOf(error)}` });
    }
  };
  const feedback = state.error && (
    <p class="error" role="alert">
      {state.error}
    </p>
  );
  return { run, busy: state.busy, feedback };
}

function EditShadow({ data, onDone }: { data: Loaded; onDone: (notice?: string) => void }) {
  const { device, etag } = data;
  const [tags, setTags] = useState(device.tags.join(', '));
  const [metadata, setMetadata] = useState(JSON.stringify(device.metadata, null, 2));
  const { run, busy, feedback } = useAction(onDone);
  const conflict = async (e: ApiError) => {
    if (e.status !== 412) return undefined;
    const now = await get<Device>(`/devices/${seg(device.id)}`).then(
      (r) => ` it is now at version ${r.data.version}`,
      () => '',
    );
    return (
      `Not saved: someone else changed ` +
      `this device since you opened ` +
      `it (you edited version ${device.version};` +
      `${now}). Your edit is still ` +
      `in the form: reload the device, ` +
      `review the change, and save ` +
      `again.`
    );
  };
  return (
    <form
      class="card"
      aria-labelledby="edit-title"
      onSubmit={(e) => {
        e.preventDefault();
        let parsed: unknown;
        try {
          parsed = JSON.parse(metadata || '{}');
        } catch (error) {
          return void run('Saving', () =>
            Promise.reject(new Error(`metadata is not valid JSON (${(error as Error).message})`)),
          );
        }
        const list = tags
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean);
        void run(
          'Saving tags and metadata',
          () =>
            api('PATCH', `/devices/${seg(device.id)}`, {
              contentType: 'application/json-patch+json',
              ifMatch: etag ?? `"${device.version}"`,
              body: [
                { op: 'replace', path: '/tags', value: list },
                { op: 'replace', path: '/metadata', value: parsed },
              ],
            }),
          conflict,
        );
      }}
    >
      <h3 id="edit-title">Tags and metadata</h3>
      <label for="edit-tags">Tags (comma-separated)</label>
      <input id="edit-tags" value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
      <label for="edit-metadata">Metadata (JSON object)</label>
      <textarea
        id="edit-metadata"
        rows={6}
        value={metadata}
        onInput={(e) => setMetadata(e.currentTarget.value)}
        spellcheck={false}
      />
      <div class="actions">
        <button type="submit" disabled={busy}>
          Save (version {device.version})
        </button>
        <button type="button" class="secondary" onClick={() => onDone()}>
          Reload the device
        </button>
      </div>
      {feedback}
    </form>
  );
}

function BindCertificate({ device, onDone }: { device: Device; onDone: (notice?: string) => void }) {
  const [slot, setSlot] = useState('identity');
  const [pem, setPem] = useState('');
  const { run, busy, feedback } = useAction(onDone);
  return (
    <form
      class="card"
      aria-labelledby="bind-title"
      onSubmit={(e) => {
        e.preventDefault();
        const path =
          slot === 'identity' ? `/devices/${seg(device.id)}/idslot` : `/devices/${seg(device.id)}/slots/${seg(slot)}`;
        void run(`Binding the certificate to ${slot}`, () => api('PUT', path, { body: { certificate: pem } }));
      }}
    >
      <h3 id="bind-title">Bind a certificate</h3>
      <label for="bind-slot">Slot</label>
      <input id="bind-slot" value={slot} list="slot-names" onInput={(e) => setSlot(e.currentTarget.value)} required />
      <datalist id="slot-names">
        {['identity', ...Object.keys(device.slots)].map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <label for="bind-pem">Certificate (PEM)</label>
      <textarea
        id="bind-pem"
        rows={6}
        value={pem}
        onInput={(e) => setPem(e.currentTarget.value)}
        placeholder="-----BEGIN CERTIFICATE-----"
        required
        spellcheck={false}
      />
      <button type="submit" disabled={busy}>
        Bind
      </button>
      {feedback}
    </form>
  );
}

function Revoke({ device, onDone }: { device: Device; onDone: (notice?: string) => void }) {
  const revocable = slotsOf(device).filter(([, s]) => s.status !== 'REVOKED');
  const [slot, setSlot] = useState(revocable[0]?.[0] ?? '');
  const [reason, setReason] = useState<string>('KeyCompromise');
  const { run, busy, feedback } = useAction(onDone);
  if (revocable.length === 0) return <p class="muted card">Nothing to revoke: no slot has an active version.</p>;
  return (
    <form
      class="card"
      aria-labelledby="revoke-title"
      onSubmit={(e) => {
        e.preventDefault();
        const path =
          slot === 'identity'
            ? `/devices/${seg(device.id)}/idslot/revoke`
            : `/devices/${seg(device.id)}/slots/${seg(slot)}/revoke`;
        void run(`Revoking ${slot}`, () => api('POST', path, { body: { reason } }));
      }}
    >
      <h3 id="revoke-title">Revoke</h3>
      <label for="revoke-slot">Slot</label>
      <select id="revoke-slot" value={slot} onChange={(e) => setSlot(e.currentTarget.value)}>
        <Options values={revocable.map(([name]) => name)} />
      </select>
      <label for="revoke-reason">Reason</label>
      <select id="revoke-reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)}>
        <Options values={REVOCATION_REASONS} />
      </select>
      <button type="submit" class="danger" disabled={busy}>
        Revoke the active version
      </button>
      {feedback}
    </form>
  );
}

function Decommission({ device, onDone }: { device: Device; onDone: (notice?: string) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const { run, busy, feedback } = useAction((notice) => {
    dialog.current?.close();
    onDone(notice);
  });
  return (
    <div class="card">
      <h3>Decommission</h3>
      <p>
        Retires the device for good: its identity certificate is revoked (CessationOfOperation) and its data kept for
        audit.
      </p>
      <button type="button" class="danger" onClick={() => (setTyped(''), dialog.current?.showModal())}>
        Decommission…
      </button>
      {feedback}
      <dialog ref={dialog} aria-labelledby="decommission-title">
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            void run('Decommissioning', () => api('DELETE', `/devices/${seg(device.id)}`));
          }}
        >
          <h2 id="decommission-title">Decommission {device.id}?</h2>
          <p>This cannot be undone.</p>
          <label for="confirm-id">Type the device id to confirm</label>
          <input id="confirm-id" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autocomplete="off" />
          <div class="actions">
            <button type="submit" class="danger" disabled={busy || typed !== device.id}>
              Decommission
            </button>
            <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </div>
  );
}

/** The device's open posture findings, each check a link to the devices that share it. */
function Findings({ device }: { device: Device }) {
  const findings = device.findings ?? [];
  return (
    <section class="card" aria-labelledby="findings-title">
      <h2 id="findings-title">Posture findings</h2>
      {findings.length === 0 ? (
        <p class="muted">No open finding.</p>
      ) : (
        <div class="scroll">
          <table class="device-findings">
            <Head columns={['Check', 'Slot', 'Since', 'Detail']} />
            <tbody>
              {findings.map((f) => (
                <tr key={`${f.check} ${f.slot}`}>
                  <td>
                    <a href={href(['posture', 'findings', f.check])}>
                      <code>{f.check}</code>
                    </a>
                  </td>
                  <td>{f.slot}</td>
                  <td>{when(f.since)}</td>
                  <td>{f.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function DevicePage({ id }: { id: string }) {
  const [refresh, setRefresh] = useState(0);
  const [notice, setNotice] = useState<string>();
  const loaded = useLoad(() => load(id), [id, refresh]);
  const reload = (message?: string) => {
    setNotice(message);
    setRefresh((n) => n + 1);
  };
  return (
    <>
      <p>
        <a href={href(['devices'])}>← Devices</a>
      </p>
      <h1>
        Device <code>{id}</code>
      </h1>
      <Section what={`device ${id}`} loaded={loaded}>
        {(data) => {
          const { device, policy, versions } = data;
          const active = device.identity
            ? versions.identity?.find((v) => v.version === device.identity!.active_version)
            : undefined;
          const reason = statusReason(device, policy, active, Date.now());
          return (
            <>
              <section class="card status" aria-labelledby="status-title">
                <h2 id="status-title">
                  Status <StatusBadge status={device.status} />
                </h2>
                <p id="status-reason">{reason.text}</p>
                {reason.next && <p id="status-next">{reason.next}</p>}
                <dl class="facts">
                  <dt>DMS</dt>
                  <dd>
                    <a href={href(['devices'], { dms: device.dms_owner })}>{device.dms_owner}</a>
                  </dd>
                  <dt>Tags</dt>
                  <dd>{device.tags.length ? device.tags.join(', ') : '—'}</dd>
                  <dt>Metadata</dt>
                  <dd>
                    <code class="json">{JSON.stringify(device.metadata)}</code>
                  </dd>
                  <dt>Created</dt>
                  <dd>{when(device.creation_timestamp)}</dd>
                  <dt>Version</dt>
                  <dd>{device.version}</dd>
                </dl>
              </section>
              <Findings device={device} />
              <section aria-labelledby="slots-title">
                <h2 id="slots-title">Slots and certificate versions</h2>
                {slotsOf(device).length === 0 && <p class="muted">No slot yet.</p>}
                <div class="grid">
                  {slotsOf(device).map(([name, slot]) => (
                    <Versions key={name} device={device} name={name} slot={slot} versions={versions[name] ?? []} />
                  ))}
                </div>
              </section>
              <section aria-labelledby="actions-title">
                <h2 id="actions-title">Actions</h2>
                {notice && (
                  <p class="ok" role="status">
                    {notice}
                  </p>
                )}
                {device.status === 'DECOMMISSIONED' ? (
                  <p class="muted">Decommissioned devices take no further changes.</p>
                ) : (
                  <div class="grid">
                    <EditShadow key={device.version} data={data} onDone={reload} />
                    <BindCertificate device={device} onDone={reload} />
                    <Revoke device={device} onDone={reload} />
                    <Decommission device={device} onDone={reload} />
                  </div>
                )}
              </section>
            </>
          );
        }}
      </Section>
      <Timeline id={id} refresh={refresh} />
    </>
  );
}
