// The stage before k6 starts, for runs given a URL (`promo --url`, `ramp --url`, …, and
// `promo` alone, which discovers the embedded demo shop's product page): confirm the
// target, discover, write the scenario, validate it once, and hand the run its script,
// target, testid, promo name and environment. The load starts only when every step of
// the validation passed (or with --force).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { scenarioDistDir } from '../../contract/dist-layout.ts';
import { makeTestId } from '../../lib/tags.ts';
import { CliError, type RunArgs } from '../args.ts';
import { discover } from './journey.ts';
import { discoveredEnv, writeAndValidate } from './command.ts';
import { confirmTarget, planLine, plannedLoad, type PlannedLoad } from './safety.ts';
import { validateBundle, validationTable } from './validate.ts';

/** Validation failed: one sentence per failing step, exit 2, no load. */
export class ValidationFailed extends CliError {}

export interface PreparedRun {
  args: RunArgs;
  /** k6 -e values the run needs besides the flags' own (paths, ALLOWED_HOSTS, PROMO_CODE). */
  env: Record<string, string>;
  /** The target was confirmed and the plan printed here, before discovery sent anything. */
  confirmed: boolean;
}

/** Whether this run discovers its journey first. */
export function discovers(args: RunArgs): boolean {
  return args.url !== undefined || (args.script === 'promo' && args.target === undefined);
}

/** The embedded demo shop's product page: what `promo` without --url discovers. */
export function demoProductUrl(demoUrl: string): string {
  return `${demoUrl}/product/1`;
}

export async function prepareRun(
  args: RunArgs,
  ctx: {
    k6: string;
    /** The embedded demo shop, when the run started it: its URL and the code its cart takes. */
    demo: { url: string; promoCode: string } | null;
    say: (line: string) => void;
    k6Env: (args: RunArgs, testid: string, baseUrl: string) => Record<string, string>;
  },
): Promise<PreparedRun> {
  const allow: Record<string, string> = args.allowHosts.length ? { ALLOWED_HOSTS: args.allowHosts.join(',') } : {};
  if (!discovers(args)) return { args, env: allow, confirmed: false };
  const { say } = ctx;
  const url = args.url ?? demoProductUrl(ctx.demo!.url);
  // The demo shop's code is known: promo on the demo tests it, as a user would with --promo-code.
  if (!args.url && args.promoCode === undefined && ctx.demo) args = { ...args, promoCode: ctx.demo.promoCode };
  const origin = new URL(url).origin;
  // The plan, from the bundle whose load shape the run will have (a discovered promo runs promo's constant load).
  const planArgs = { ...args, target: origin };
  const plan: PlannedLoad | null = await plannedLoad(ctx.k6, join(scenarioDistDir(), `${args.script}.js`), ctx.k6Env(planArgs, makeTestId(args.script), origin));
  say(planLine(origin, plan, args.instances));
  await confirmTarget(origin, plan, args.yes, say);

  const discovery = await discover({ url, promoCode: args.promoCode, promoType: args.promoTypeGiven ? (args.promoType as never) : undefined, allowHosts: args.allowHosts, say, pagesOnly: args.script !== 'promo' });
  if (args.script === 'promo') {
    const testid = args.testid ?? makeTestId(args.promoName ?? discovery.product.name);
    // Named promo.ts: the run's scenario is "promo" in the history and on the status page.
    const out = join(resolve(args.outDir), testid, 'promo.ts');
    const command = ['npm run k6 -- promo', ...(args.url ? ['--url', args.url] : []), ...(args.promoCode ? ['--promo-code', args.promoCode] : [])].join(' ');
    const { validation } = await writeAndValidate(discovery, { command, out, promoCode: args.promoCode, allowHosts: args.allowHosts, env: { TESTID: testid }, say });
    check(validation.ok, validation.failures, args.force, say);
    return {
      args: { ...args, script: out, target: origin, testid, promoName: args.promoName ?? discovery.promo.words, promoType: discovery.promo.type },
      env: discoveredEnv(discovery, args.promoCode, args.allowHosts),
      confirmed: true,
    };
  }
  // smoke, ramp and cache-hit: the bundled scenario on the pages discovery found.
  const byRole = (role: string) => discovery.steps.find((s) => s.name === role);
  const path = (role: string) => {
    const s = byRole(role);
    return s && s.kind === 'visit' ? s.path : null;
  };
  const env: Record<string, string> = { ...allow, HOME_PATH: path('homepage')!, PRODUCT_PATH: path('product page')!, CATEGORY_PATH: path('category') ?? path('homepage')! };
  if (!path('category')) say(`note: no category page was found; ${args.script} visits the homepage in its place.`);
  const runArgs = { ...args, target: origin };
  const bundle = join(scenarioDistDir(), `${args.script}.js`);
  const steps = args.script === 'ramp' ? ['product'] : ['homepage', 'category', 'product'];
  const validation = await validateBundle(ctx.k6, bundle, { ...ctx.k6Env(runArgs, makeTestId(args.script), origin), ...env }, steps, mkdtempSync(join(tmpdir(), 'promo-validate-')));
  for (const line of validationTable(validation)) say(line);
  check(validation.ok, validation.failures, args.force, say);
  return { args: runArgs, env, confirmed: true };
}

function check(ok: boolean, failures: string[], force: boolean, say: (line: string) => void): void {
  if (ok) return;
  if (!force) throw new ValidationFailed(failures.join('\n'));
  say(`validation failed (${failures.join(' ')}); --force: loading anyway`);
}
