// The standard tags every sample carries, and the testid that ties a run together.
import { type Env, k6Env, oneOf, text, EnvError } from './env.ts';

export const ENVIRONMENTS = ['prod', 'preprod'] as const;
export const PROMO_TYPES = ['striked_price', 'auto_cart', 'manual_code', 'none'] as const;
export const INTENSITY_NAMES = ['light', 'medium', 'heavy'] as const;
/** `cart` goes beyond the three page types of the spec: the cart API is where promo codes apply. */
export const PAGE_TYPES = ['homepage', 'category', 'product', 'cart'] as const;

export type Environment = (typeof ENVIRONMENTS)[number];
export type PromoType = (typeof PROMO_TYPES)[number];
export type IntensityName = (typeof INTENSITY_NAMES)[number];
export type PageType = (typeof PAGE_TYPES)[number];

/**
 * The standard tags every sample carries, each with the environment variable the
 * scenarios read it from (the CLI sets them from its flags). The one list of them: the
 * CLI, the Kubernetes manifests and the sink derive theirs from it.
 */
export const STANDARD_TAG_ENV = { testid: 'TESTID', environment: 'ENVIRONMENT', promo_type: 'PROMO_TYPE', promo_name: 'PROMO_NAME', intensity: 'INTENSITY' } as const;
export type StandardTagName = keyof typeof STANDARD_TAG_ENV;
export const STANDARD_TAG_NAMES = Object.keys(STANDARD_TAG_ENV) as StandardTagName[];
export type RunTagName = Exclude<StandardTagName, 'testid'>;
/** The standard tags that describe a run, all but its testid: a run's labels and its registration's tags. */
export const RUN_TAG_NAMES = STANDARD_TAG_NAMES.filter((name): name is RunTagName => name !== 'testid');
export type RunTags = Record<RunTagName, string>;

/** Every run tag, '' where `tags` has none: the labels of a run's info series. */
export function runTagLabels(tags: Readonly<Record<string, string>>): RunTags {
  const out = {} as RunTags;
  for (const name of RUN_TAG_NAMES) out[name] = tags[name] ?? '';
  return out;
}

export interface StandardTags {
  testid: string;
  environment: Environment;
  promo_type: PromoType;
  promo_name: string;
  intensity: IntensityName;
  [name: string]: string;
}

export const TESTID_PATTERN = /^[a-z0-9_]{1,20}_[0-9]{8}_[0-9]{6}_[0-9a-f]{8}$/;

/** Lowercase, every character outside [a-z0-9] turned into `_`, at most 20 characters. */
export function slugify(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]/g, '_').slice(0, 20);
  return slug === '' ? 'run' : slug;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `<slug>_<YYYYMMDD>_<HHMMSS>_<8 hex>`, in UTC. */
export function makeTestId(name: string, at: Date = new Date(), hex8: string = randomHex8()): string {
  if (!/^[0-9a-f]{8}$/.test(hex8)) throw new Error(`The testid suffix must be 8 lowercase hex digits, not "${hex8}".`);
  const date = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}`;
  const time = `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return `${slugify(name)}_${date}_${time}_${hex8}`;
}

export function randomHex8(): string {
  let out = '';
  for (let i = 0; i < 8; i++) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

/**
 * Reads the standard tags from the environment (the CLI sets them from its flags).
 * Without TESTID one is made up; k6 evaluates options once, so the run still has a
 * single testid, but only the CLI's own testid also names the output folder.
 */
export function standardTags(scenario: string, env: Env = k6Env()): StandardTags {
  const from = STANDARD_TAG_ENV;
  const promoName = text(env, from.promo_name, 'none');
  const testid = text(env, from.testid, '') || makeTestId(promoName !== 'none' ? promoName : scenario);
  if (!TESTID_PATTERN.test(testid)) {
    throw new EnvError(`TESTID must look like <slug>_<YYYYMMDD>_<HHMMSS>_<8 hex>, not "${testid}".`);
  }
  return {
    testid,
    environment: oneOf(env, from.environment, ENVIRONMENTS, 'preprod'),
    promo_type: oneOf(env, from.promo_type, PROMO_TYPES, 'none'),
    promo_name: promoName,
    intensity: oneOf(env, from.intensity, INTENSITY_NAMES, 'light'),
  };
}
