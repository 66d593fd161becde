/**
 * The expiry forecast chart: Chart.js with only the bar chart pieces registered (tree-shaken), stacked
 * identity/slots per bucket. A table below carries the same numbers for screen readers and phones.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import type { ExpirationForecast } from './types';
import { Head } from './ui';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const label = (iso: string) => iso.slice(0, 10);

export function ForecastChart({ forecast }: { forecast: ExpirationForecast }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: forecast.buckets.map((b) => label(b.start)),
        datasets: [
          { label: 'Identity certificates', data: forecast.buckets.map((b) => b.identity), backgroundColor: '#1f5fa8' },
          { label: 'Slot secrets', data: forecast.buckets.map((b) => b.slots), backgroundColor: '#c9791a' },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        responsive: true,
        scales: {
          x: { stacked: true, title: { display: true, text: `${forecast.bucket} starting (UTC)` } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'expiring' } },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    });
    return () => chart.destroy();
  }, [forecast]);
  const total = forecast.buckets.reduce((n, b) => n + b.identity + b.slots, 0);
  return (
    <figure class="chart">
      <div class="chart-box">
        <canvas
          ref={canvas}
          role="img"
          aria-label={
            `Expiry forecast by ${forecast.bucket}: ${total} identity ` +
            `certificates and slot secrets expire over the next ${forecast.buckets.length} ` +
            `${forecast.bucket}s`
          }
        />
      </div>
      <details>
        <summary>The numbers</summary>
        <div class="scroll">
          <table>
            <Head columns={['From', 'Until', 'Identity', 'Slots']} />
            <tbody>
              {forecast.buckets.map((b) => (
                <tr key={b.start}>
                  <td>{label(b.start)}</td>
                  <td>{label(b.end)}</td>
                  <td>{b.identity}</td>
                  <td>{b.slots}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** A chart label: long values (an issuer DN with its key id) are cut; the table below has them whole. */
const short = (value: string) => (value.length > 32 ? `${value.slice(0, 31)}…` : value);

/**
 * Counts per value as horizontal bars (one dimension of the certificate inventory), most common first as
 * the API orders them; `link` makes a value's row in the table a drill-down.
 */
export function CountsChart({
  title,
  counts,
  link,
}: {
  title: string;
  counts: Record<string, number>;
  link?: (value: string) => string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const entries = Object.entries(counts);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: entries.map(([value]) => short(value)),
        datasets: [{ label: 'certificates', data: entries.map(([, n]) => n), backgroundColor: '#1f5fa8' }],
      },
      options: {
        indexAxis: 'y',
        animation: false,
        maintainAspectRatio: false,
        responsive: true,
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { display: false } },
      },
    });
    return () => chart.destroy();
  }, [counts]);
  const text = entries.map(([value, n]) => `${value} ${n}`).join(', ') || 'no certificates';
  return (
    <figure class="chart">
      <div class="chart-box small">
        <canvas ref={canvas} role="img" aria-label={`${title}: ${text}`} />
      </div>
      <div class="scroll">
        <table>
          <Head columns={['Value', 'Certificates']} />
          <tbody>
            {entries.map(([value, n]) => (
              <tr key={value}>
                <td>
                  <code>{value}</code>
                </td>
                <td>{link ? <a href={link(value)}>{`${n} device${n === 1 ? '' : 's'}`}</a> : n}</td>
              </tr>
            ))}
            {entries.length === 0 && (
              <tr>
                <td colSpan={2}>No certificate in service.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
