// GET /api/compare[?candidate=<testid>][&baseline=<testid>]: two finished runs compared as
// the status page and `compare` compare them (report/compare.ts). Without a baseline, the
// page's default picks (defaultComparison): the candidate (the newest run without one)
// against the latest comparable run before it with promo type `none`, else the previous
// comparable one. Two runs that cannot be compared get the reason, in one sentence, and no
// figures.
import type { FastifyInstance } from 'fastify';
import type { History } from './history.ts';
import { SinkErrors } from '../errors.ts';
import { defaultComparison, tryCompare, type Comparison } from '../../report/compare.ts';
import type { HistoryEntry } from '../../contract/sink-api.ts';

/** GET /api/compare's answer. */
export interface CompareJson {
  baseline: HistoryEntry | null;
  candidate: HistoryEntry | null;
  /** Whether the baseline was picked by the default rule (no `baseline` asked for). */
  picked: boolean;
  /** Why nothing is compared; null with a comparison. */
  refused: string | null;
  comparison: Comparison | null;
}

const TESTID = '^[A-Za-z0-9_.-]{1,128}$';

export async function compareRoutes(app: FastifyInstance, options: { history: History | null }): Promise<void> {
  app.get<{ Querystring: { candidate?: string; baseline?: string } }>(
    '/api/compare',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { candidate: { type: 'string', pattern: TESTID }, baseline: { type: 'string', pattern: TESTID } },
        },
      },
    },
    async (request): Promise<CompareJson> => {
      const entries = options.history?.list() ?? [];
      const find = (testid: string) => {
        const entry = options.history?.find(testid);
        if (!entry) throw new SinkErrors.RUN_NOT_FOUND(JSON.stringify(testid));
        return entry;
      };
      const { candidate: candidateId, baseline: baselineId } = request.query;
      if (baselineId === undefined) {
        if (candidateId !== undefined) find(candidateId);
        const picks = defaultComparison(entries, candidateId ?? null);
        if (!picks.baseline || !picks.candidate) return { baseline: null, candidate: picks.candidate, picked: true, refused: picks.reason, comparison: null };
        return { baseline: picks.baseline, candidate: picks.candidate, picked: true, ...tryCompare(picks.baseline, picks.candidate) };
      }
      const baseline = find(baselineId);
      const candidate = candidateId !== undefined ? find(candidateId) : (defaultComparison(entries, null).candidate ?? find(baselineId));
      return { baseline, candidate, picked: false, ...tryCompare(baseline, candidate) };
    },
  );
}
