/// <reference lib="dom" />
// The run's charts (uPlot, bundled by `npm run build`; no CDN, nothing inline, so the
// status page's strict CSP holds): simultaneous users with the breaking point and the
// throughput limit marked, response time with the grade's 1 s and 2 s band limits,
// errors with lines at 1 % and 5 %, and requests/s. x is seconds since the run's first
// point; each chart's data is the run's series (GET /api/runs/:testid/series), requests/s
// worked out per push interval. Each y scale fits its data from 0; a limit line beyond it
// is said in words under the chart, and no label is drawn over a line.
import uPlot from 'uplot';
import type { CapacityJson, HistoryEntry, SeriesPointJson } from '../contract/sink-api.ts';
import { freePlace, labelCandidates, seriesSegments, type Box, type Segment } from './chart-labels.ts';
import { count } from './words.ts';

export type ChartName = 'users' | 'latency' | 'errors' | 'rps';

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
      rps: [x, ratePerPush(points)],
    };
  }
  const bx = seconds(baseline);
  const all = [...new Set([...x, ...bx])].sort((a, b) => a - b);
  const at = (xs: number[], run: readonly SeriesPointJson[], value: (p: SeriesPointJson, i: number) => number | null) => {
    const byX = new Map(xs.map((s, i) => [s, value(run[i]!, i)]));
    return all.map((s) => (byX.has(s) ? byX.get(s)! : null));
  };
  const both = (value: (p: SeriesPointJson) => number | null) => [at(x, points, value), at(bx, baseline, value)];
  // A point's rate needs the point before it in its own run.
  const [rates, baselineRates] = [ratePerPush(points), ratePerPush(baseline)];
  return {
    users: [all, ...both((p) => p.vus)],
    latency: [all, at(x, points, (p) => p.p50Ms), at(x, points, (p) => p.p95Ms), at(x, points, (p) => p.p99Ms), at(bx, baseline, (p) => p.p95Ms)],
    errors: [all, ...both(errorPct)],
    rps: [all, at(x, points, (_, i) => rates[i]!), at(bx, baseline, (_, i) => baselineRates[i]!)],
  };
}

const errorPct = (p: SeriesPointJson) => (p.errorRatio === null ? null : p.errorRatio * 100);

/**
 * Requests/s between each push and the one before it (the run's request count and sample
 * time at each point): the rate of that push interval, not a rolling window. The first
 * point has nothing before it, so it has no rate: a window that began before the run's
 * first sample would divide the first requests by a fraction of a second.
 */
export function ratePerPush(run: readonly SeriesPointJson[]): Array<number | null> {
  return run.map((p, i) => {
    const before = run[i - 1];
    if (!before || p.t <= before.t) return null;
    return Math.max(0, ((p.requests - before.requests) * 1000) / (p.t - before.t));
  });
}

/** A horizontal line over the plot, with its label and, for the note when it is off the chart, its name. */
interface Limit {
  value: number;
  label: string;
  colour: string;
  /** "the 1 s limit (grade A)": said under the chart when the line is beyond its scale. */
  name: string;
}

/** What a chart says under itself: the limits beyond its scale, and the labels with no free place on it. */
export function chartNote(above: readonly Limit[], unplaced: readonly Limit[]): string {
  const sentences: string[] = [];
  if (above.length > 0) {
    const names = above.map((l) => l.name);
    const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    sentences.push(`${list[0]!.toUpperCase()}${list.slice(1)} ${names.length === 1 ? 'is' : 'are'} above the top of this chart: every point shown is below ${names.length === 1 ? 'it' : 'them'}.`);
  }
  if (unplaced.length > 0) sentences.push(`Dashed line${unplaced.length === 1 ? '' : 's'}: ${unplaced.map((l) => l.label).join('; ')}.`);
  return sentences.join(' ');
}

/**
 * Horizontal lines drawn over the plot, each labelled where the label covers no line
 * (chart-labels.ts): not the series, not another limit, not another label. A label
 * with no free place goes under the chart instead, as does a line beyond the scale.
 */
function limitLines(limits: () => Limit[], setNote: (text: string) => void): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const ctx = u.ctx;
        const dpr = devicePixelRatio;
        const area: Box = { left: u.bbox.left, top: u.bbox.top, right: u.bbox.left + u.bbox.width, bottom: u.bbox.top + u.bbox.height };
        const scale = u.scales.y!;
        const inView: Array<Limit & { y: number }> = [];
        const above: Limit[] = [];
        for (const limit of limits()) {
          const y = u.valToPos(limit.value, 'y', true);
          if (scale.max != null && limit.value > scale.max) above.push(limit);
          else if (Number.isFinite(y) && y >= area.top && y <= area.bottom) inView.push({ ...limit, y });
        }
        // Every drawn line: the series shown, then the limits themselves.
        const segments: Segment[] = [];
        const xs = (u.data[0] as ReadonlyArray<number | null>).map((x) => (x == null ? null : u.valToPos(x, 'x', true)));
        u.series.forEach((s, i) => {
          if (i === 0 || s.show === false) return;
          const key = s.scale ?? 'y';
          segments.push(...seriesSegments(xs, (u.data[i] as ReadonlyArray<number | null | undefined>).map((v) => (v == null ? null : u.valToPos(v, key, true)))));
        });
        for (const l of inView) segments.push([area.left, l.y, area.right, l.y]);
        const fontPx = 11 * dpr;
        const taken: Box[] = [];
        const unplaced: Limit[] = [];
        for (const limit of inView) {
          ctx.save();
          ctx.strokeStyle = limit.colour;
          ctx.setLineDash([6, 4]);
          ctx.lineWidth = 1.5 * dpr;
          ctx.beginPath();
          ctx.moveTo(area.left, limit.y);
          ctx.lineTo(area.right, limit.y);
          ctx.stroke();
          ctx.font = `${fontPx}px sans-serif`;
          const width = ctx.measureText(limit.label).width;
          // Its own line is one of the segments: a place just above or below it clears it by the gap less the pad.
          const place = freePlace(labelCandidates(area, limit.y, width, fontPx * 1.25, 4 * dpr), area, segments, taken, 2 * dpr);
          if (place) {
            taken.push(place);
            ctx.fillStyle = limit.colour;
            ctx.textAlign = 'left';
            ctx.textBaseline = 'middle';
            ctx.fillText(limit.label, place.left, (place.top + place.bottom) / 2);
          } else unplaced.push(limit);
          ctx.restore();
        }
        setNote(chartNote(above, unplaced));
      },
    },
  };
}

export interface RunCharts {
  /** The uPlot of each chart (tests read their data and scales). */
  charts: Record<ChartName, uPlot>;
  update(points: readonly SeriesPointJson[], capacity: CapacityJson | null, baseline?: readonly SeriesPointJson[] | null): void;
}

export interface RunChartsOptions {
  height?: number;
  /** A fixed width (the report's: it fits A4 when printed); else the container's. */
  width?: number;
  /** Draw a baseline run beside this one (dashed, grey): update() then takes its points. */
  baseline?: boolean;
  /**
   * A page that is read, not pointed at (the report, its PDF): the legend names the lines
   * without the values under the cursor, which would print as empty dashes.
   */
  staticLegend?: boolean;
}

const BASELINE_SERIES = (label: string): uPlot.Series => ({ label, stroke: '#9e9e9e', width: 1.5, dash: [5, 4], spanGaps: true });

/**
 * The y range from 0 to a little above the highest of the data and `reach` (values the
 * scale must show, such as the capacity it marks): the data decide the scale, so a
 * 2 ms shop is not a flat line on a 2,000 ms axis.
 */
const fitFromZero =
  (least: number, reach: () => number[] = () => []): uPlot.Range.Function =>
  (_u, _min, max) => {
    const top = Math.max(Number.isFinite(max) ? max : 0, ...reach().filter(Number.isFinite));
    return [0, top > 0 ? Math.max(least, top * 1.1) : Math.max(least, 1)];
  };

/** Four charts into `container`, one under the other, as wide as it is. */
export function createRunCharts(container: HTMLElement, options: RunChartsOptions = {}): RunCharts {
  let capacity: CapacityJson | null = null;
  // As wide as the chart's box inside its padding: a phone's 390 px screen takes the whole chart.
  const width = (holder: HTMLElement) => {
    const style = getComputedStyle(holder);
    const inner = holder.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return options.width ?? Math.max(240, Math.min(inner || 800, 1100));
  };
  const height = options.height ?? 200;
  const x: uPlot.Series = { label: 'seconds' };
  const make = (name: ChartName, title: string, own: uPlot.Series[], yRange: uPlot.Range.Function, limits: () => Limit[], baselineLabel: string) => {
    // Both runs' points share one x: each has gaps where the other has a point.
    const series = options.baseline ? [...own.map((s) => ({ ...s, spanGaps: true })), BASELINE_SERIES(baselineLabel)] : own;
    const holder = document.createElement('div');
    holder.className = 'chart';
    holder.dataset.chart = name;
    const note = document.createElement('p');
    note.className = 'chart-note';
    note.dataset.testid = `chart-note-${name}`;
    note.hidden = true;
    container.append(holder);
    const opts: uPlot.Options = {
      title,
      width: width(holder),
      height,
      series: [x, ...series],
      scales: { x: { time: false }, y: { range: yRange } },
      axes: [{ label: 'seconds since the start' }, {}],
      plugins: [
        limitLines(limits, (text) => {
          note.textContent = text;
          note.hidden = text === '';
        }),
      ],
      legend: { show: true, live: !options.staticLegend },
      cursor: { drag: { x: false, y: false } },
    };
    const chart = new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, holder);
    holder.append(note);
    return chart;
  };
  const marks = (): Limit[] => {
    const out: Limit[] = [];
    if (capacity?.breakingPointVus != null) out.push({ value: capacity.breakingPointVus, label: `breaking point: ${count(capacity.breakingPointVus, 'user')}`, colour: COLOURS.errors, name: 'the breaking point' });
    if (capacity?.throughputLimitVus != null) out.push({ value: capacity.throughputLimitVus, label: `throughput limit reached at ${count(capacity.throughputLimitVus, 'user')}`, colour: COLOURS.limit, name: 'the throughput limit' });
    return out;
  };
  const charts: Record<ChartName, uPlot> = {
    users: make('users', 'Simultaneous users', [{ label: 'users (VUs)', stroke: COLOURS.users, width: 2 }], fitFromZero(1, () => marks().map((m) => m.value)), marks, 'baseline users'),
    latency: make(
      'latency',
      'Response time (ms)',
      [
        { label: 'p50', stroke: COLOURS.p50, width: 1.5 },
        { label: 'p95', stroke: COLOURS.p95, width: 2 },
        { label: 'p99', stroke: COLOURS.p99, width: 1.5 },
      ],
      fitFromZero(1),
      () => [
        { value: 1000, label: '1 s: grade A limit', colour: COLOURS.limit, name: 'the 1 s limit (grade A)' },
        { value: 2000, label: '2 s: grade C limit', colour: COLOURS.errors, name: 'the 2 s limit (grade C)' },
      ],
      'baseline p95',
    ),
    // 0 to 6 % at least: the 1 % and 5 % lines are the scale marketing reads errors against.
    errors: make('errors', 'Errors (%)', [{ label: 'errors %', stroke: COLOURS.errors, width: 2 }], fitFromZero(6), () => [
      { value: 1, label: '1 %', colour: COLOURS.limit, name: 'the 1 % line' },
      { value: 5, label: '5 %', colour: COLOURS.errors, name: 'the 5 % line' },
    ], 'baseline errors %'),
    rps: make(
      'rps',
      'Requests per second',
      [{ label: 'requests/s', stroke: COLOURS.rps, width: 2 }],
      fitFromZero(1, () => (capacity?.throughputLimitRps != null ? [capacity.throughputLimitRps] : [])),
      () => (capacity?.throughputLimitRps != null ? [{ value: capacity.throughputLimitRps, label: `capacity: ${capacity.throughputLimitRps.toFixed(1)} requests/s`, colour: COLOURS.limit, name: 'the capacity' }] : []),
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
      width: Math.max(240, Math.min(container.clientWidth || 800, 1100)),
      height: options.height ?? 200,
      series: [
        { label: 'test', value: (_u, v) => (v == null ? '—' : (shown[v - 1]?.testid ?? String(v))) },
        { label: 'p95 (ms)', stroke: COLOURS.p95, width: 2, scale: 'ms', points: { show: true, size: 7 } },
        { label: 'errors %', stroke: COLOURS.errors, width: 1.5, dash: [4, 3], scale: '%', points: { show: true, size: 6 } },
      ],
      // Both fit their data from 0: 7–8 ms runs are not drawn flat on a 0–100 ms axis.
      scales: { x: { time: false }, ms: { range: fitFromZero(1) }, '%': { range: fitFromZero(1) } },
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
