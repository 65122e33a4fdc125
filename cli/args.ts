// Parsing `npm run k6 -- …`. Every mistake becomes one plain sentence.
import { parseArgs } from 'node:util';
import { ENVIRONMENTS, INTENSITY_NAMES, PROMO_TYPES, TESTID_PATTERN } from '../lib/tags.ts';
import { MIN_GRADES } from '../lib/thresholds.ts';
import { parseDurationMs } from '../lib/env.ts';
import { DEFAULT_GUARD, GUARD_EXIT_CODE, parseGuard } from './guard.ts';
import type { ExpectRequest, GuardJson } from '../contract/sink-api.ts';

export class CliError extends Error {}

export interface RunArgs {
  command: 'run';
  /** A bundled scenario name, or a path to a user's .ts/.js file. */
  script: string;
  target?: string;
  environment: string;
  intensity: string;
  promoType: string;
  promoName?: string;
  vus?: number;
  duration?: string;
  outDir: string;
  minGrade: string;
  abortOnFail: boolean;
  /** A sink to report to; without it the CLI starts one in-process. */
  sink?: string;
  /** Run k6 with no sink at all. */
  noSink: boolean;
  /** Use this testid instead of making one up (runs started by the sink). */
  testid?: string;
  /** Local k6 processes sharing the load through execution segments. */
  instances: number;
  /** The guard: `--guard`'s rules, off (`--no-guard`), or the default (on for ramp and promo against a shop that is not the embedded demo; cli/guard.ts). */
  guard: GuardJson | 'off' | 'default';
  /** Print a k6-operator TestRun and its ConfigMap instead of running. */
  k8s?: { parallelism: number; namespace: string; sinkUrl: string };
  /** The expected Black Friday peak (--expect-users, --expect-rps): the run says whether the shop will hold it. */
  expect?: ExpectRequest;
  extraK6Args: string[];
  /** A page of the shop (product, category or homepage): discover the journey there first. */
  url?: string;
  /** The code the cart takes, for manual_code (discovery tries it, the scenario applies it). */
  promoCode?: string;
  /** Whether --promo-type was given (it then overrides what discovery finds). */
  promoTypeGiven: boolean;
  /** Hosts besides the target's that discovery and the load may reach. */
  allowHosts: string[];
  /** Load a target outside loopback without asking. */
  yes: boolean;
  /** Run even when the validation run failed. */
  force: boolean;
}

export type CliArgs = RunArgs | { command: 'help' };

export const USAGE = `Usage: npm run k6 -- <scenario|path.ts> [options] [-- <extra k6 args>]

Scenarios: smoke, ramp, cache-hit, promo (or a path to your own .ts/.js file)

Options:
  --url URL               a page of your shop (product best): discover the journey and the promo,
                          validate it with 1 VU, then load it (promo, ramp, smoke, cache-hit);
                          promo without --url or --target discovers the embedded demo shop
  --promo-code CODE       the code the cart takes (manual_code); discovery checks it is accepted
  --allow-host HOST       another host discovery and the load may reach (repeatable)
  --yes                   load a target outside loopback without asking
  --force                 load even when the validation run failed
  --target URL            shop to test with the bundled paths (default: the embedded demo shop)
  --env prod|preprod      environment tag (default preprod)
  --intensity light|medium|heavy   load profile (default light)
  --promo-type striked_price|auto_cart|manual_code|none   (default none)
  --promo-name NAME       promo name tag; also names the testid
  --vus N                 VUs: the peak of ramp (RAMP_MAX_VUS); the steady VUs of cache-hit,
                          promo and your own constant-load scenarios (TARGET_VUS); smoke runs 1
  --duration 30s          run length (DURATION)
  --min-grade A|B|C|D|none   thresholds that fail the run below this grade (default C)
  --abort-on-fail         stop as soon as a threshold fails (destructive runs)
  --out-dir DIR           where <testid>/summary.json and http_req_duration.csv go (default results)
  --sink URL              report to this sink (token from SINK_TOKEN); default: an embedded sink
  --no-sink               run k6 without a sink (no live grade, no history)
  --instances N           run N local k6 processes with execution segments, one merged grade
  --testid ID             use this testid (<slug>_<YYYYMMDD>_<HHMMSS>_<8 hex>)
  --expect-users N        the expected peak in users: the run says whether the shop will hold it
                          (holds, at risk, will not hold), from its capacity forecast
  --expect-rps R          the same, in requests per second
  --guard RULES           the sink stops every instance when a rule holds (default for ramp and
                          promo against a shop that is not the embedded demo: ${DEFAULT_GUARD})
  --no-guard              no guard
  --k8s                   print a k6-operator TestRun and ConfigMap (YAML) instead of running;
                          with --parallelism N (default 1), --namespace NS (default default),
                          --sink-url URL (required) and --target URL (required)

Other commands:
  npm run k6 -- discover <url> [--promo-code CODE] [--promo-type T] [--out FILE] [--allow-host HOST]
  npm run k6 -- history [--csv | --trend] [--scenario S] [--promo-type T] [--promo-name N] [--file PATH | --out-dir DIR | --sink URL]
  npm run k6 -- compare <baseline> <candidate> [--json] [--file PATH | --out-dir DIR | --sink URL] [--no-color]
  npm run k6 -- report <testid> [--baseline <testid>] [--out FILE] [--pdf] [--sink URL | --out-dir DIR]
  npm run k6 -- forecast [--target URL] [--scenario S] [--promo-name N] [--expect-users N | --expect-rps R] [--file PATH | --out-dir DIR | --sink URL]
  -h, --help              this text

Exit code: k6's own (0 ok, 99 thresholds failed, 103/105/108 stopped or aborted); 99 also when
the sink stopped the run because a threshold failed on the data of every instance merged;
${GUARD_EXIT_CODE} when the guard stopped the run before it harmed the shop.`;

type OptionTypes = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/**
 * `--vus -3`: a value that starts with a dash is the option's value when it is not an
 * option itself (node's parseArgs would call it ambiguous), so the value's own check
 * names the real problem ("--vus must be a whole number of at least 1, not "-3"").
 */
export function joinDashValues(argv: readonly string[], options: OptionTypes): string[] {
  const names = new Set(Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const option = arg.startsWith('--') ? options[arg.slice(2)] : undefined;
    if (option?.type === 'string' && next !== undefined && next.startsWith('-') && next !== '--' && !names.has(next.split('=')[0]!)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** node's parseArgs error as one sentence: what is wrong, then the options (`lead`: "report takes"). */
export function optionError(err: unknown, lead: string, options: OptionTypes): CliError {
  const message = (err as Error).message;
  const takes = `${lead} ${Object.keys(options).map((o) => `--${o}`).join(', ')}`;
  const missing = /^Option '(--[\w-]+)(?: <value>)?' argument (?:missing|is ambiguous)/.exec(message);
  if (missing) return new CliError(`${missing[1]} needs a value.`);
  const flag = /^Option '(--[\w-]+)' does not take an argument/.exec(message);
  if (flag) return new CliError(`${flag[1]} takes no value.`);
  return new CliError(`${message.split('\n')[0]!.replace(/\.\s.*$/, '')}; ${takes}.`);
}

function oneOf(flag: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) throw new CliError(`--${flag} must be one of ${allowed.join(', ')}, not "${value}".`);
  return value;
}

const RUN_OPTIONS = {
  target: { type: 'string' },
  url: { type: 'string' },
  'promo-code': { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  yes: { type: 'boolean' },
  force: { type: 'boolean' },
  env: { type: 'string' },
  intensity: { type: 'string' },
  'promo-type': { type: 'string' },
  'promo-name': { type: 'string' },
  vus: { type: 'string' },
  duration: { type: 'string' },
  'min-grade': { type: 'string' },
  'abort-on-fail': { type: 'boolean' },
  'out-dir': { type: 'string' },
  sink: { type: 'string' },
  'no-sink': { type: 'boolean' },
  instances: { type: 'string' },
  testid: { type: 'string' },
  'expect-users': { type: 'string' },
  'expect-rps': { type: 'string' },
  guard: { type: 'string' },
  'no-guard': { type: 'boolean' },
  k8s: { type: 'boolean' },
  parallelism: { type: 'string' },
  namespace: { type: 'string' },
  'sink-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseCliArgs(argv: string[]): CliArgs {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const extraK6Args = split === -1 ? [] : argv.slice(split + 1);
  let parsed;
  try {
    parsed = parseArgs({ args: joinDashValues(own, RUN_OPTIONS), allowPositionals: true, strict: true, options: RUN_OPTIONS });
  } catch (err) {
    throw optionError(err, 'the options are', RUN_OPTIONS);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (positionals.length !== 1) {
    throw new CliError(positionals.length === 0 ? 'Name a scenario (smoke, ramp, cache-hit, promo) or a script path.' : `Give one scenario, not ${positionals.length}: ${positionals.join(' ')}.`);
  }
  if (values.target !== undefined && !/^https?:\/\/[^\s/]+/.test(values.target)) {
    throw new CliError(`--target must be an http:// or https:// URL, not "${values.target}".`);
  }
  if (values.url !== undefined) {
    if (!/^https?:\/\/[^\s/]+/.test(values.url)) throw new CliError(`--url must be an http:// or https:// URL, not "${values.url}".`);
    if (values.target !== undefined) throw new CliError('Give --url (discover the journey) or --target (the bundled paths), not both.');
    if (!['promo', 'ramp', 'smoke', 'cache-hit'].includes(positionals[0]!)) throw new CliError(`--url goes with promo, ramp, smoke or cache-hit; for ${positionals[0]}, run npm run k6 -- discover <url> first.`);
    if (values.k8s) throw new CliError('--url does not go with --k8s: discover first (npm run k6 -- discover <url>) and give the scenario it writes.');
  }
  for (const h of values['allow-host'] ?? []) {
    if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(h)) throw new CliError(`--allow-host takes a host or host:port, not "${h}".`);
  }
  if (values.vus !== undefined && !/^[1-9][0-9]*$/.test(values.vus)) {
    throw new CliError(`--vus must be a whole number of at least 1, not "${values.vus}".`);
  }
  if (values.duration !== undefined && !(parseDurationMs(values.duration) ?? 0)) {
    throw new CliError(`--duration must be a duration such as 30s, 2m or 1m30s, not "${values.duration}".`);
  }
  if (values.sink !== undefined && !/^https?:\/\/[^\s/]+/.test(values.sink)) {
    throw new CliError(`--sink must be an http:// or https:// URL, not "${values.sink}".`);
  }
  if (values.sink !== undefined && values['no-sink']) throw new CliError('--sink and --no-sink cannot go together.');
  if (values.instances !== undefined && !/^[1-9][0-9]?$/.test(values.instances)) {
    throw new CliError(`--instances must be a whole number from 1 to 99, not "${values.instances}".`);
  }
  if (values.testid !== undefined && !TESTID_PATTERN.test(values.testid)) {
    throw new CliError(`--testid must look like <slug>_<YYYYMMDD>_<HHMMSS>_<8 hex>, not "${values.testid}".`);
  }
  const expect = parseExpect(values['expect-users'], values['expect-rps']);
  if (values.guard !== undefined && values['no-guard']) throw new CliError('--guard and --no-guard cannot go together.');
  if (values.guard !== undefined && values['no-sink']) throw new CliError('--guard needs a sink: the sink judges the rules and stops the run.');
  const guard = values.guard === undefined ? (values['no-guard'] ? 'off' : 'default') : parseGuard(values.guard);
  if (typeof guard === 'object' && 'error' in guard) throw new CliError(guard.error);
  let k8s: RunArgs['k8s'];
  if (values.k8s) {
    if (values.parallelism !== undefined && !/^[1-9][0-9]{0,4}$/.test(values.parallelism)) {
      throw new CliError(`--parallelism must be a whole number of at least 1, not "${values.parallelism}".`);
    }
    if (!values['sink-url'] || !/^https?:\/\/[^\s/]+/.test(values['sink-url'])) {
      throw new CliError('--k8s needs --sink-url with the http:// or https:// address the pods reach the sink at.');
    }
    if (!values.target) throw new CliError('--k8s needs --target: the pods cannot reach an embedded demo shop.');
    k8s = { parallelism: Number(values.parallelism ?? 1), namespace: values.namespace ?? 'default', sinkUrl: values['sink-url'] };
  } else if (values.parallelism !== undefined || values.namespace !== undefined || values['sink-url'] !== undefined) {
    throw new CliError('--parallelism, --namespace and --sink-url go with --k8s.');
  }
  return {
    command: 'run',
    k8s,
    script: positionals[0]!,
    target: values.target,
    environment: oneOf('env', values.env ?? 'preprod', ENVIRONMENTS),
    intensity: oneOf('intensity', values.intensity ?? 'light', INTENSITY_NAMES),
    promoType: oneOf('promo-type', values['promo-type'] ?? 'none', PROMO_TYPES),
    promoName: values['promo-name'],
    vus: values.vus === undefined ? undefined : Number(values.vus),
    duration: values.duration,
    outDir: values['out-dir'] ?? 'results',
    minGrade: oneOf('min-grade', values['min-grade'] ?? 'C', MIN_GRADES),
    abortOnFail: values['abort-on-fail'] ?? false,
    sink: values.sink?.replace(/\/+$/, ''),
    noSink: values['no-sink'] ?? false,
    testid: values.testid,
    instances: values.instances === undefined ? 1 : Number(values.instances),
    ...(expect ? { expect } : {}),
    guard,
    extraK6Args,
    url: values.url,
    promoCode: values['promo-code'],
    promoTypeGiven: values['promo-type'] !== undefined,
    allowHosts: (values['allow-host'] ?? []).map((h) => h.toLowerCase()),
    yes: values.yes ?? false,
    force: values.force ?? false,
  };
}

/** `--expect-users N` or `--expect-rps R` (one of the two): the expected peak; undefined without either. */
export function parseExpect(users: string | undefined, rps: string | undefined): ExpectRequest | undefined {
  if (users !== undefined && rps !== undefined) throw new CliError('Give either --expect-users or --expect-rps, not both.');
  if (users !== undefined) {
    if (!/^[1-9][0-9]{0,7}$/.test(users)) throw new CliError(`--expect-users must be a whole number of users of at least 1, not "${users}".`);
    return { users: Number(users) };
  }
  if (rps !== undefined) {
    if (!/^[0-9]{1,9}(\.[0-9]+)?$/.test(rps) || !(Number(rps) > 0)) throw new CliError(`--expect-rps must be a number of requests per second above 0, not "${rps}".`);
    return { rps: Number(rps) };
  }
  return undefined;
}
