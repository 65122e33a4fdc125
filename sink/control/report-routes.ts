// GET /api/runs/:testid/report[?baseline=<testid>]: the run's report (report/html.ts) as a
// download, the file `npm run k6 -- report` writes. A finished run's from its history
// entry and stored series; a live run's as it stands (the entry it would get now).
import type { FastifyInstance } from 'fastify';
import type { RunRegistry } from '../grade/runs.ts';
import type { History } from './history.ts';
import type { SeriesStore } from './series-store.ts';
import { historyEntry, type RunControl } from './run-control.ts';
import { SinkErrors } from '../errors.ts';
import { renderReportHtml } from '../../report/html.ts';
import { reportData, type ReportRun } from '../../report/report-data.ts';
import { loadReportAssets } from '../../report/assets.ts';

export interface ReportRouteOptions {
  control: RunControl;
  runs: RunRegistry;
  history: History | null;
  seriesStore: SeriesStore | null;
}

const TESTID = '^[A-Za-z0-9_.-]{1,128}$';

export async function reportRoutes(app: FastifyInstance, options: ReportRouteOptions): Promise<void> {
  const { control, runs, history, seriesStore } = options;

  const reportRun = async (testid: string): Promise<ReportRun> => {
    const run = runs.run(testid);
    const entry = history?.find(testid) ?? (run ? historyEntry(testid, run, control.registrations.get(testid) ?? null) : undefined);
    if (!entry) throw new SinkErrors.RUN_NOT_FOUND(JSON.stringify(testid));
    return { entry, series: run ? run.seriesJson() : ((await seriesStore?.get(testid)) ?? null) };
  };

  app.get<{ Params: { testid: string }; Querystring: { baseline?: string } }>(
    '/api/runs/:testid/report',
    {
      schema: {
        params: { type: 'object', properties: { testid: { type: 'string', pattern: TESTID } }, required: ['testid'] },
        querystring: { type: 'object', properties: { baseline: { type: 'string', pattern: TESTID } }, additionalProperties: false },
      },
    },
    async (request, reply) => {
      const { testid } = request.params;
      const [run, baseline] = await Promise.all([reportRun(testid), request.query.baseline ? reportRun(request.query.baseline) : null]);
      const html = renderReportHtml(reportData(run, baseline), await loadReportAssets());
      reply
        .type('text/html; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="report-${testid}.html"`)
        .header('Cache-Control', 'no-store')
        .header('X-Content-Type-Options', 'nosniff');
      return html;
    },
  );
}
