/// <reference lib="dom" />
import type uPlot from 'uplot';
import type { StatusSnapshot } from './status-snapshot';
import type { StatusViews } from './status-view';

/**
 * The page's script, run in the browser: polls `GET /status` every `pollMs` and redraws the
 * tables and the chart. The service serves this function's source (see StatusAssets), so it
 * must be self-contained: the views come in as an argument, uPlot from its own script tag.
 * Values are set as textContent only, never as HTML: error messages come from hostile input.
 */
export function runStatusPage(views: StatusViews, pollMs: number): void {
  const UPlot = (window as unknown as { uPlot: typeof uPlot }).uPlot;
  const outcomes = [
    ['applied', '#2e7d32'],
    ['duplicate', '#1565c0'],
    ['stale', '#8e24aa'],
    ['invalid', '#ef6c00'],
    ['failed', '#c62828'],
  ] as const;
  const chartBox = document.getElementById('rate-chart') as HTMLElement;
  let chart: uPlot | undefined;

  const setText = (id: string, text: string) => {
    const element = document.getElementById(id);
    if (element !== null) element.textContent = text;
  };

  const fill = (table: string, rows: string[][]) => {
    const body = document.querySelector(`#${table} tbody`);
    if (body === null) return;
    body.replaceChildren(
      ...rows.map((cells) => {
        const row = document.createElement('tr');
        for (const cell of cells) {
          const td = document.createElement('td');
          td.textContent = cell;
          row.append(td);
        }
        return row;
      }),
    );
  };

  const draw = (snapshot: StatusSnapshot) => {
    const samples = snapshot.rates.samples;
    const data: uPlot.AlignedData = [
      samples.map((r) => r.at / 1000),
      ...outcomes.map(([outcome]) => samples.map((r) => r[outcome])),
    ];
    if (chart === undefined) {
      chart = new UPlot(
        {
          width: Math.max(chartBox.clientWidth, 320),
          height: 220,
          legend: { live: false },
          scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
          axes: [{}, { label: 'events/s' }],
          series: [{}, ...outcomes.map(([label, stroke]) => ({ label, stroke, width: 2 }))],
        },
        data,
        chartBox,
      );
    } else {
      chart.setData(data);
    }
    chartBox.dataset.points = String(samples.length);
  };

  const render = (snapshot: StatusSnapshot) => {
    for (const [table, rowsOf] of Object.entries(views.tables)) fill(table, rowsOf(snapshot));
    for (const [table, note] of Object.entries(views.notes(snapshot))) {
      setText(`${table}-note`, note);
    }
    draw(snapshot);
    setText('updated', `updated ${snapshot.generatedAt}`);
  };

  window.addEventListener('resize', () =>
    chart?.setSize({ width: Math.max(chartBox.clientWidth, 320), height: 220 }),
  );

  const poll = async () => {
    try {
      const response = await fetch('status', { headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`GET /status answered ${response.status}`);
      render((await response.json()) as StatusSnapshot);
    } catch (err) {
      setText('updated', `not updated: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setTimeout(() => void poll(), pollMs);
    }
  };
  void poll();
}
