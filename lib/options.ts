// Options every scenario shares: standard tags, the stats the grade needs, thresholds.
import type { Options } from 'k6/options';
import { type Env, k6Env } from './env.ts';
import { standardTags, type StandardTags } from './tags.ts';
import { resolveProfile, type Profile } from './profiles.ts';
import { thresholdsFromEnv } from './thresholds.ts';
import { announceThresholds } from './threshold-announce.ts';

/** p(99) and count are not in k6's default summary stats; the grade report needs them. */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'];

export interface ScenarioSetup {
  tags: StandardTags;
  profile: Profile;
  options: Options;
  /**
   * Call first in the default function: tells the sink the thresholds (once per VU), so
   * it judges them on every instance's data under plain `k6 run` or a TestRun too.
   */
  announce: () => void;
}

/** Reads the environment once and builds the options for one k6 scenario. */
export function scenarioSetup(
  name: string,
  load: (profile: Profile) => object,
  extra: Options = {},
  env: Env = k6Env(),
): ScenarioSetup {
  const tags = standardTags(name, env);
  const profile = resolveProfile(env);
  const options: Options = {
    tags,
    scenarios: { [name]: { ...load(profile), exec: 'default' } as never },
    summaryTrendStats: SUMMARY_TREND_STATS,
    ...extra,
    // A scenario's own thresholds add to the grade ones rather than replace them.
    thresholds: { ...(thresholdsFromEnv(env) as Options['thresholds']), ...extra.thresholds },
  };
  return { tags, profile, options, announce: () => announceThresholds(options.thresholds as never) };
}
