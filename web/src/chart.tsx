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
