// The guard on the CLI's side: `--guard RULES` read into the rules the sink judges, when a
// run gets the guard by default, and the CLI's own exit code for a run the guard stopped.
// The sink judges the rules and stops every instance (sink/grade/guard.ts, docs/capacity.md).
import type { GuardJson, GuardMeasure, GuardRuleJson } from '../contract/sink-api.ts';
import { parseDurationMs } from '../lib/env.ts';

/** The guard's rules unless `--guard` says otherwise. */
export const DEFAULT_GUARD = 'errors>5%:10s,p95>3s:10s';

/** The CLI's exit code when the guard stopped the run: one k6 does not use (it uses 97 to 110). */
export const GUARD_EXIT_CODE = 90;

/** The scenarios that get the guard by default, against any target but the embedded demo shop: they push the shop towards its limit. */
export const GUARDED_SCENARIOS: readonly string[] = ['ramp', 'promo'];

const MEASURES: readonly GuardMeasure[] = ['errors', 'p50', 'p90', 'p95', 'p99'];
const RULE = /^([a-z0-9]+)>([0-9]+(?:\.[0-9]+)?)(%|ms|s)?:(.+)$/;

/** `--guard 'errors>5%:10s,p95>3s:10s'` → the rules, or why it is not one, in one sentence. */
export function parseGuard(text: string): GuardJson | { error: string } {
  const bad = (part: string, why: string) => ({ error: `--guard takes rules such as ${DEFAULT_GUARD}; "${part}" ${why}.` });
  const rules: GuardRuleJson[] = [];
  for (const part of text.split(',').map((p) => p.replace(/\s+/g, ''))) {
    const m = RULE.exec(part);
    if (!m) return bad(part, 'is not of the form measure>limit:duration');
    const [, name, number, unit, held] = m as unknown as [string, string, string, string | undefined, string];
    const measure = MEASURES.find((x) => x === name);
    if (!measure) return bad(part, `names no measure the guard knows (${MEASURES.join(', ')})`);
    const value = Number(number);
    let above: number;
    if (measure === 'errors') {
      if (unit !== '%') return bad(part, 'gives the errors without a % (errors>5%)');
      if (value > 100) return bad(part, 'gives the errors over 100 %');
      above = value / 100;
    } else {
      if (unit !== 'ms' && unit !== 's') return bad(part, `gives ${measure} without ms or s (${measure}>3s)`);
      above = unit === 's' ? value * 1000 : value;
      if (above > 3_600_000) return bad(part, `gives ${measure} over an hour`);
    }
    const forMs = parseDurationMs(held);
    if (forMs === null) return bad(part, `holds for "${held}", not a duration such as 10s`);
    if (forMs < 1000 || forMs > 3_600_000 || !Number.isInteger(forMs)) return bad(part, 'must hold for 1 s to 1 h, in whole milliseconds');
    rules.push({ measure, above, forMs });
  }
  if (rules.length > 8) return { error: `--guard takes at most 8 rules, not ${rules.length}.` };
  return { rules };
}

/**
 * The run's guard: `--guard`'s rules, none with `--no-guard`, else the default rules for a
 * ramp or a promo against a shop that is not the embedded demo shop (a real shop, where a
 * test that goes far past the break hurts real customers).
 */
export function guardOf(choice: GuardJson | 'off' | 'default', scenario: string, demoShop: boolean): GuardJson | null {
  if (choice === 'off') return null;
  if (choice !== 'default') return choice;
  return GUARDED_SCENARIOS.includes(scenario) && !demoShop ? (parseGuard(DEFAULT_GUARD) as GuardJson) : null;
}
