// The promo's impact, for people who will not read a table: a run with the promo against a
// baseline without it (the same scenario and journey on the shop as it is), in plain words
// first ("Cart pages were 97 % slower with the promo"), then the figures they come from.
// The words and the figures are the comparison's (compare.ts), so the report, `compare`,
// the status page and its API agree; two runs that cannot be compared get the reason.
import { tryCompare, type Comparison } from './compare.ts';
import type { HistoryEntry } from '../contract/sink-api.ts';

export interface PromoImpact {
  /** The sentences, changes first; the reason alone when the runs cannot be compared. */
  sentences: string[];
  /** null when the runs cannot be compared. */
  comparison: Comparison | null;
  /** Why they cannot be compared (one sentence); null when they can. */
  refused: string | null;
}

export function promoImpact(baseline: HistoryEntry, promo: HistoryEntry): PromoImpact {
  const result = tryCompare(baseline, promo);
  if (result.refused !== null) return { sentences: [result.refused], comparison: null, refused: result.refused };
  return { sentences: result.comparison.sentences, comparison: result.comparison, refused: null };
}
