/// <reference lib="dom" />
// The report's script, inline in report.html (bundled with uPlot by `npm run build`): it
// reads the run's data from the page and draws the charts. Everything else in the report
// is already in its HTML.
import { createRunCharts, type RunCharts } from './charts.ts';
import type { ReportData } from './report-data.ts';

const data = JSON.parse(document.getElementById('report-data')!.textContent!) as ReportData;
const points = data.run.series?.points ?? [];
if (points.length > 0) {
  // 680 px: the width of A4 less its margins, so the printed charts are those on screen.
  const charts: RunCharts = createRunCharts(document.querySelector<HTMLElement>('[data-testid="charts"]')!, { width: 680, height: 190, baseline: data.baseline !== null, staticLegend: true });
  charts.update(points, data.run.entry.capacity ?? null, data.baseline?.series?.points ?? []);
  // For tests and the curious: what each chart holds.
  (window as unknown as { promoCharts: RunCharts }).promoCharts = charts;
}
document.body.dataset.charts = points.length > 0 ? 'drawn' : 'none';
