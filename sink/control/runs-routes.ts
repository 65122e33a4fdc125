// GET /api/runs and /api/runs/:testid: the live and whole-run figures, as JSON.
import type { FastifyInstance } from 'fastify';
import type { RunRegistry } from '../grade/runs.ts';
import type { RunState } from '../grade/run-state.ts';
import type { Figures } from '../model/run-events.ts';
import { formatGrade } from '../../lib/grade.ts';
import { SinkErrors } from '../errors.ts';
import type { FiguresJson, RunJson } from '../../contract/sink-api.ts';
import { verdictOf } from '../../report/sentences.ts';
import { expectationOf } from '../../report/forecast.ts';

/** Dates beyond ±8.64e15 ms cannot be written as ISO strings: a wild timestamp shows as null. */
export const iso = (ms: number | null | undefined) => (ms === null || ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15 ? null : new Date(ms).toISOString());

function figuresJson(f: Figures): FiguresJson {
  const { grade, ...rest } = f;
  return { ...rest, grade: { letter: grade.letter, score: grade.score, colour: grade.colour, text: formatGrade(grade), ...(grade.reason ? { reason: grade.reason } : {}) } };
}

export function runJson(run: RunState): RunJson {
  const { live, run: whole } = run.figures();
  const finished = run.ended || run.outcome !== null;
  const failures = run.failures();
  const capacity = run.capacity();
  const expectation = run.expect ? expectationOf(capacity.forecast, run.expect) : null;
  return {
    testid: run.testid,
    status: run.status,
    tags: run.tags,
    firstSampleAt: iso(run.firstSampleAt),
    lastSampleAt: iso(run.lastSampleAt),
    endedAt: iso(run.endedAt),
    series: run.seriesCount,
    p95Source: run.p95Source,
    breakingPointVus: run.breakingPointVus,
    capacity: run.capacity(),
    naReason: whole.grade.reason ?? null,
    live: figuresJson(live),
    final: figuresJson(whole),
    pages: run.pages(),
    thresholds: run.thresholdResults(),
    abortedBy: run.abortedBy,
    abortedAt: iso(run.abortedAt),
    failures,
    ending: run.ending,
    verdict: verdictOf({ grade: (finished ? whole : live).grade, requests: whole.requests, failures, capacity, ending: run.ending, finished, expectation }),
    ...(expectation ? { expectation } : {}),
  };
}

export async function runsRoutes(app: FastifyInstance, options: { runs: RunRegistry }): Promise<void> {
  app.get('/api/runs', async () => ({ runs: [...options.runs.runs.values()].map(runJson) }));
  app.get<{ Params: { testid: string } }>('/api/runs/:testid', async (request) => {
    const run = options.runs.run(request.params.testid);
    if (!run) throw new SinkErrors.RUN_NOT_FOUND(JSON.stringify(request.params.testid));
    return runJson(run);
  });
}
