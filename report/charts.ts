/// <reference lib="dom" />
// The run's charts (uPlot, bundled by `npm run build`; no CDN, nothing inline, so the
// status page's strict CSP holds): simultaneous users with the breaking point and the
// throughput limit marked, response time with the grade's 1 s and 2 s band limits,
// errors with lines at 1 % and 5 %, and requests/s. x is seconds since the run's first
// point; each chart's data is the run's series (GET /api/runs/:testid/series) as is.
import uPlot from 'uplot';
import type { CapacityJson, HistoryEntry, SeriesPointJson } from '../contract/sink-api.ts';

export type ChartName = 'users' | 'latency' | 'errors' | 'rps';
type Limit = { value: number; label: string; colour: string };

const COLOURS = { users: '#1565c0', p50: '#2e7d32', p95: '#ef6c00', p99: '#c62828', errors: '#c62828', rps: '#6a1b9a', limit: '#455a64' };

/**
 * The series as chart columns: x in seconds since the first point, then each value. With
 * a baseline, its points (in seconds since its own first point) are drawn beside them:
 * x is the union of both runs' seconds, each run null where it has no point.
 */
export function chartColumns(points: readonly SeriesPointJson[], baseline?: readonly SeriesPointJson[] | null): Record<ChartName, Array<Array<number | null>>> {
  const seconds = (run: readonly SeriesPointJson[]) => run.map((p) => (p.t - (run[0]?.t ?? 0)) / 1000);
  const x = seconds(points);
  if (!baseline) {
    return {
      users: [x, points.map((p) => p.vus)],
      latency: [x, points.map((p) => p.p50Ms), points.map((p) => p.p95Ms), points.map((p) => p.p99Ms)],
      errors: [x, points.map((p) => errorPct(p))],
      rps: [x, points.map((p) => p.rps)],
    };
  }
  const bx = seconds(baseline);
  const all = [...new Set([...x, ...bx])].sort((a, b) => a - b);
  const at = (xs: number[], run: readonly SeriesPointJson[], value: (p: SeriesPointJson) => number | null) => {
    const byX = new Map(xs.map((s, i) => [s, value(run[i]!)]));
    return all.map((s) => (byX.has(s) ? byX.get(s)! : null));
  };
  const both = (value: (p: SeriesPointJson) => number | null) => [at(x, points, value), at(bx, baseline, value)];
  return {
    users: [all, ...both((p) => p.vus)],
    latency: [all, at(x, points, (p) => p.p50Ms), at(x, points, (p) => p.p95Ms), at(x, points, (p) => p.p99Ms), at(bx, baseline, (p) => p.p95Ms)],
    errors: [all, ...both(errorPct)],
    rps: [all, ...both((p) => p.rps)],
  };
}

const errorPct = (p: SeriesPointJson) => (p.errorRatio === null ? null : p.errorRatio * 100);

/** Horizontal lines drawn over the plot, with their labels. */
function limitLines(limits: () => Limit[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const ctx = u.ctx;
        const { left, width } = u.bbox;
        for (const limit of limits()) {
          const y = u.valToPos(limit.value, 'y', true);
          if (!Number.isFinite(y) || y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
          ctx.save();
          ctx.strokeStyle = limit.colour;
          ctx.setLineDash([6, 4]);
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(left, y);
          ctx.lineTo(left + width, y);
          ctx.stroke();
          ctx.fillStyle = limit.colour;
          ctx.font = `${11 * devicePixelRatio}px sans-serif`;
          // At the right end: the left holds the y axis' own numbers.
          ctx.textAlign = 'right';
          ctx.fillText(limit.label, left + width - 4 * devicePixelRatio, y - 4 * devicePixelRatio);
          ctx.restore();
        }
      },
    },
  };
}

export interface RunCharts {
  /** The uPlot of each chart (tests read their data). */
  charts: Record<ChartName, uPlot>;
  update(points: readonly SeriesPointJson[], capacity: CapacityJson | null, baseline?: readonly SeriesPointJson[] | null): void;
}

export interface RunChartsOptions {
  height?: number;
  /** A fixed width (the report's: it fits A4 when printed); else the container's. */
  width?: number;
  /** Draw a baseline run beside this one (dashed, grey): update() then takes its points. */
  baseline?: boolean;
}

const BASELINE_SERIES = (label: string): uPlot.Series => ({ label, stroke: '#9e9e9e', width: 1.5, dash: [5, 4], spanGaps: true });

/** Four charts into `container`, one under the other, as wide as it is. */
export function createRunCharts(container: HTMLElement, options: RunChartsOptions = {}): RunCharts {
  let capacity: CapacityJson | null = null;
  const width = () => options.width ?? Math.max(280, Math.min(container.clientWidth || 800, 1100));
  const height = options.height ?? 200;
  const x: uPlot.Series = { label: 'seconds' };
  const make = (name: ChartName, title: string, own: uPlot.Series[], yRange: uPlot.Scale['range'] | undefined, limits: () => Limit[], baselineLabel: string) => {
    // Both runs' points share one x: each has gaps where the other has a point.
    const series = options.baseline ? [...own.map((s) => ({ ...s, spanGaps: true })), BASELINE_SERIES(baselineLabel)] : own;
    const holder = document.createElement('div');
    holder.className = 'chart';
    holder.dataset.chart = name;
    container.append(holder);
    const opts: uPlot.Options = {
      title,
      width: width(),
      height,
      series: [x, ...series],
      scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
      axes: [{ label: 'seconds since the start' }, {}],
      plugins: [limitLines(limits)],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
    return new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, holder);
  };
  // The y ranges reach the limit lines, so they are always in sight.
  const upTo = (least: number): uPlot.Scale['range'] => (_u, _min, max) => [0, Math.max(least, (max ?? 0) * 1.1)];
  const charts: Record<ChartName, uPlot> = {
    users: make('users', 'Simultaneous users', [{ label: 'users (VUs)', stroke: COLOURS.users, width: 2 }], upTo(1), () => {
      const marks: Limit[] = [];
      if (capacity?.breakingPointVus != null) marks.push({ value: capacity.breakingPointVus, label: `breaking point: ${capacity.breakingPointVus} users`, colour: COLOURS.errors });
      if (capacity?.throughputLimitVus != null) marks.push({ value: capacity.throughputLimitVus, label: `throughput limit reached at ${capacity.throughputLimitVus} users`, colour: COLOURS.limit });
      return marks;
    }, 'baseline users'),
    latency: make(
      'latency',
      'Response time (ms)',
      [
        { label: 'p50', stroke: COLOURS.p50, width: 1.5 },
        { label: 'p95', stroke: COLOURS.p95, width: 2 },
        { label: 'p99', stroke: COLOURS.p99, width: 1.5 },
      ],
      upTo(2200),
      () => [
        { value: 1000, label: '1 s: grade A limit', colour: COLOURS.limit },
        { value: 2000, label: '2 s: grade C limit', colour: COLOURS.errors },
      ],
      'baseline p95',
    ),
    errors: make('errors', 'Errors (%)', [{ label: 'errors %', stroke: COLOURS.errors, width: 2 }], upTo(6), () => [
      { value: 1, label: '1 %', colour: COLOURS.limit },
      { value: 5, label: '5 %', colour: COLOURS.errors },
    ], 'baseline errors %'),
    rps: make('rps', 'Requests per second', [{ label: 'requests/s', stroke: COLOURS.rps, width: 2 }], upTo(1), () =>
      capacity?.throughputLimitRps != null ? [{ value: capacity.throughputLimitRps, label: `capacity: ${capacity.throughputLimitRps.toFixed(1)} requests/s`, colour: COLOURS.limit }] : [],
      'baseline requests/s',
    ),
  };
  return {
    charts,
    update(points, newCapacity, baseline) {
      capacity = newCapacity;
      const columns = chartColumns(points, options.baseline ? (baseline ?? []) : null);
      for (const name of Object.keys(charts) as ChartName[]) charts[name].setData(columns[name] as uPlot.AlignedData);
    },
  };
}

/** A trend's columns: x is the run's number (1 the oldest shown), then p95 (ms) and errors (%). */
export function trendColumns(runs: ReadonlyArray<Pick<HistoryEntry, 'p95Ms' | 'errorRatio'>>): Array<Array<number | null>> {
  return [runs.map((_, i) => i + 1), runs.map((r) => r.p95Ms ?? null), runs.map((r) => (r.errorRatio === null ? null : r.errorRatio * 100))];
}

export interface TrendChart {
  chart: uPlot;
  update(runs: readonly HistoryEntry[]): void;
}

/** The trend of past tests: p95 on the left axis, errors % on the right, a point per run. */
export function createTrendChart(container: HTMLElement, options: { height?: number } = {}): TrendChart {
  let shown: readonly HistoryEntry[] = [];
  const chart = new uPlot(
    {
      title: 'Past tests: p95 and errors, oldest first',
      width: Math.max(280, Math.min(container.clientWidth || 800, 1100)),
      height: options.height ?? 200,
      series: [
        { label: 'test', value: (_u, v) => (v == null ? '—' : (shown[v - 1]?.testid ?? String(v))) },
        { label: 'p95 (ms)', stroke: COLOURS.p95, width: 2, scale: 'ms', points: { show: true, size: 7 } },
        { label: 'errors %', stroke: COLOURS.errors, width: 1.5, dash: [4, 3], scale: '%', points: { show: true, size: 6 } },
      ],
      scales: { x: { time: false }, ms: { range: (_u, _min, max) => [0, Math.max(100, (max ?? 0) * 1.1)] }, '%': { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.1)] } },
      axes: [{ label: 'test (1 = the oldest shown)', incrs: [1, 2, 5, 10] }, { scale: 'ms', label: 'p95 (ms)' }, { scale: '%', side: 1, label: 'errors (%)', grid: { show: false } }],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    },
    [[], [], []],
    container,
  );
  return {
    chart,
    update(runs) {
      shown = runs;
      chart.setData(trendColumns(runs) as uPlot.AlignedData);
    },
  };
}
