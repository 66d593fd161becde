/**
 * Fleet: totals and the seven statuses (each a link to the filtered device list), the expiry forecast,
 * the distribution of each indexed metadata key, and the DMS renewal policies. Each section loads and
 * fails on its own, so one broken route never blanks the page.
 */
import { useState } from 'preact/hooks';
import { get, seg } from '../api';
import { ForecastChart } from '../chart';
import { href, navigate } from '../router';
import type { DeviceStats, DmsPolicy, ExpirationForecast, ListPage, MetadataDistribution } from '../types';
import { allPages, DEVICE_STATUSES, Head, Section, StatusBar, StatusLegend, statusLabel, useLoad, when } from '../ui';

const HORIZONS = [
  { days: 84, label: 'next 12 weeks' },
  { days: 182, label: 'next 26 weeks' },
  { days: 364, label: 'next 52 weeks' },
];

/** The indexed metadata keys, as the OpenAPI document lists them (`x-indexed-metadata-keys`). */
async function indexedKeys(): Promise<string[]> {
  const { data } = await get<Record<string, unknown> & { info?: Record<string, unknown> }>('/openapi.json');
  const keys = data['x-indexed-metadata-keys'] ?? data.info?.['x-indexed-metadata-keys'];
  return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
}

function Totals() {
  const stats = useLoad(() => get<DeviceStats>('/stats/devices').then((r) => r.data), []);
  return (
    <section aria-labelledby="totals">
      <h2 id="totals">Devices by status</h2>
      <Section what="the device statistics" loaded={stats}>
        {(s) => (
          <ul class="tiles">
            <li>
              <a class="tile total" href={href(['devices'])}>
                <span class="n">{s.total}</span> devices
              </a>
            </li>
            {DEVICE_STATUSES.map((status) => (
              <li key={status}>
                <a
                  class={`tile s-${status}`}
                  href={href(['devices'], { status })}
                  aria-label={`${s.status_distribution[status] ?? 0} ${statusLabel(status)}: list them`}
                >
                  <span class="n">{s.status_distribution[status] ?? 0}</span> {statusLabel(status)}
                </a>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </section>
  );
}

function Forecast({ horizon }: { horizon: number }) {
  const forecast = useLoad(
    () =>
      get<ExpirationForecast>('/stats/expirations', { bucket: 'week', horizon_days: String(horizon) }).then(
        (r) => r.data,
      ),
    [horizon],
  );
  return (
    <section aria-labelledby="forecast">
      <h2 id="forecast">Expiry forecast</h2>
      <label for="horizon">Horizon </label>
      <select
        id="horizon"
        value={horizon}
        onChange={(e) => navigate(href(['fleet'], { horizon: e.currentTarget.value }))}
      >
        {HORIZONS.map((h) => (
          <option key={h.days} value={h.days}>
            {h.label}
          </option>
        ))}
      </select>
      <Section what="the expiry forecast" loaded={forecast}>
        {(f) => (
          <>
            <p class={f.already_expired > 0 ? 'callout warn' : 'callout'}>
              <a href={href(['devices'], { status: 'EXPIRED' })}>
                <strong>{f.already_expired}</strong> already expired
              </a>{' '}
              and still active (not revoked, not replaced) as of {when(f.generated_at)}.
            </p>
            <ForecastChart forecast={f} />
          </>
        )}
      </Section>
    </section>
  );
}

function Distribution({ metaKey }: { metaKey: string }) {
  const dist = useLoad(
    () => get<MetadataDistribution>(`/stats/metadata/${seg(metaKey)}`).then((r) => r.data),
    [metaKey],
  );
  return (
    <div class="card">
      <h3>
        <code>metadata.{metaKey}</code>
      </h3>
      <Section what={`the distribution of metadata.${metaKey}`} loaded={dist}>
        {(d) => (
          <div class="scroll">
            <table>
              <Head columns={['Value', 'Devices', 'Statuses']} />
              <tbody>
                {d.values.map((v) => (
                  <tr key={v.value}>
                    <td>
                      <a href={href(['devices'], { meta: `${metaKey}[eq]${v.value}` })}>
                        <code>{v.value}</code>
                      </a>
                    </td>
                    <td>{v.total}</td>
                    <td>
                      <StatusBar distribution={v.status_distribution} />
                    </td>
                  </tr>
                ))}
                {d.other > 0 && (
                  <tr>
                    <td>other values</td>
                    <td>{d.other}</td>
                    <td />
                  </tr>
                )}
                {d.values.length === 0 && d.other === 0 && (
                  <tr>
                    <td colSpan={3}>No device has this key.</td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </div>
  );
}

function Metadata({ extra }: { extra: string[] }) {
  const keys = useLoad(indexedKeys, []);
  const [key, setKey] = useState('');
  return (
    <section aria-labelledby="metadata">
      <h2 id="metadata">Metadata</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim())
            navigate(href(['fleet'], new URLSearchParams([...extra.map((k) => ['key', k]), ['key', key.trim()]])));
        }}
      >
        <label for="meta-key">Indexed key</label>
        <input
          id="meta-key"
          value={key}
          placeholder="firmware_version"
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <button type="submit">Show distribution</button>
      </form>
      <Section what="the indexed metadata keys" loaded={keys}>
        {(list) => {
          const all = [...new Set([...list, ...extra])];
          return all.length === 0 ? (
            <p class="muted">
              No indexed metadata keys are configured (INDEXED_METADATA_KEYS locally, indexedMetadataKeys in the stack).
            </p>
          ) : (
            <>
              <div class="grid">
                {all.map((k) => (
                  <Distribution key={k} metaKey={k} />
                ))}
              </div>
              <StatusLegend />
            </>
          );
        }}
      </Section>
    </section>
  );
}

function Policies() {
  const policies = useLoad(
    () =>
      allPages((bookmark) => get<ListPage<DmsPolicy>>('/dms', bookmark ? { bookmark } : undefined).then((r) => r.data)),
    [],
  );
  return (
    <section aria-labelledby="dms">
      <h2 id="dms">DMS renewal policies</h2>
      <Section what="the DMS policies" loaded={policies}>
        {(list) =>
          list.length === 0 ? (
            <p class="muted">No DMS has a stored policy: every device uses the deployment's defaults.</p>
          ) : (
            <div class="scroll">
              <table>
                <Head columns={['DMS', 'Name', 'Renewal pending', 'Expiring soon', 'Devices']} />
                <tbody>
                  {list.map((p) => (
                    <tr key={p.id}>
                      <td>
                        <code>{p.id}</code>
                      </td>
                      <td>{p.name}</td>
                      <td>{p.settings.preventive_delta} before expiry</td>
                      <td>{p.settings.critical_delta} before expiry</td>
                      <td>
                        <a href={href(['devices'], { dms: p.id })}>list</a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Section>
    </section>
  );
}

export function FleetPage({ query }: { query: URLSearchParams }) {
  const horizon = Number(query.get('horizon')) || 84;
  return (
    <>
      <h1>Fleet</h1>
      <Totals />
      <Forecast horizon={horizon} />
      <Metadata extra={query.getAll('key')} />
      <Policies />
    </>
  );
}
