// A ready-made k6 `handleSummary`. The testid comes from the consolidated options:
// each VU runs the init code again, so a testid made up there differs per VU.
import exec from 'k6/execution';
import { promoSummary, type SummaryData } from './summary.ts';

export function handleSummary(data: SummaryData): Record<string, string> {
  const tags = (exec.test.options.tags ?? {}) as Record<string, string>;
  return promoSummary(data, { testid: tags.testid });
}
