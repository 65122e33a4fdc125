// `npm run k6 -- discover <url> [--promo-code CODE] [--out FILE]`: discovery, the
// scenario written out, and its validation run (1 VU, 1 iteration in real k6).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleFile } from '../../build/k6-bundle.ts';
import { PROMO_TYPES, slugify, type PromoType } from '../../lib/tags.ts';
import { CliError } from '../args.ts';
import { resolveK6 } from '../k6-binary.ts';
import { discover, type Discovery } from './journey.ts';
import { scenarioSource } from './scenario.ts';
import { validateBundle, validationTable, type Validation } from './validate.ts';

export const DISCOVER_USAGE = `Usage: npm run k6 -- discover <url> [--promo-code CODE] [--promo-type T] [--out FILE] [--allow-host HOST]

Finds the page types, the journey (homepage, category, product, add to cart, cart, code form) and
the promo from one URL, writes an editable k6 scenario (default results/discovered/<product>.ts),
and runs it once (1 VU, 1 iteration) to prove the journey works. Exit 0 when it does, 2 otherwise.`;

/** The environment a discovered scenario runs with. */
export function discoveredEnv(discovery: Discovery, promoCode: string | undefined, allowHosts: string[]): Record<string, string> {
  return {
    BASE_URL: discovery.origin,
    PROMO_TYPE: discovery.promo.type,
    ...(promoCode ? { PROMO_CODE: promoCode } : {}),
    ...(allowHosts.length ? { ALLOWED_HOSTS: allowHosts.join(',') } : {}),
  };
}

export function stepNames(discovery: Discovery): string[] {
  return discovery.steps.map((s) => s.name);
}

/** Writes the scenario, bundles it next to it, and validates it in k6. */
export async function writeAndValidate(
  discovery: Discovery,
  opts: { command: string; out: string; promoCode?: string; allowHosts: string[]; env?: Record<string, string>; say: (line: string) => void },
): Promise<{ path: string; bundle: string; validation: Validation }> {
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, scenarioSource({ command: opts.command, discovery, promoCode: opts.promoCode }));
  opts.say(`scenario ${shown(opts.out)}`);
  const bundle = await bundleFile(opts.out, mkdtempSync(join(tmpdir(), 'promo-discover-')));
  const k6 = await resolveK6();
  const env = { ...discoveredEnv(discovery, opts.promoCode, opts.allowHosts), ...(opts.env ?? {}) };
  const validation = await validateBundle(k6, bundle, env, stepNames(discovery), dirname(bundle));
  for (const line of validationTable(validation)) opts.say(line);
  for (const line of discovery.promo.evidence) opts.say(`  promo: ${line}`);
  return { path: opts.out, bundle, validation };
}

export async function discoverCommand(argv: string[], say: (line: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { 'promo-code': { type: 'string' }, 'promo-type': { type: 'string' }, out: { type: 'string' }, 'allow-host': { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message.split('\n')[0]!.replace(/\..*$/, '')}; discover takes a URL and --promo-code, --promo-type, --out, --allow-host.`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    say(DISCOVER_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError('Give discover one URL: the page of a product, a category or the homepage.');
  const url = positionals[0]!;
  if (!/^https?:\/\/[^\s/]+/.test(url)) throw new CliError(`discover needs an http:// or https:// URL, not "${url}".`);
  const promoType = values['promo-type'];
  if (promoType !== undefined && !(PROMO_TYPES as readonly string[]).includes(promoType)) throw new CliError(`--promo-type must be one of ${PROMO_TYPES.join(', ')}, not "${promoType}".`);
  const allowHosts = checkHosts(values['allow-host'] ?? []);
  const discovery = await discover({ url, promoCode: values['promo-code'], promoType: promoType as PromoType | undefined, allowHosts, say });
  const out = resolve(values.out ?? join('results', 'discovered', `${slugify(discovery.product.name)}.ts`));
  const command = ['npm run k6 -- discover', url, ...(values['promo-code'] ? ['--promo-code', values['promo-code']] : []), ...(promoType ? ['--promo-type', promoType] : [])].join(' ');
  const { validation } = await writeAndValidate(discovery, { command, out, promoCode: values['promo-code'], allowHosts, say });
  if (!validation.ok) {
    for (const f of validation.failures) process.stderr.write(f + '\n');
    return 2;
  }
  say(`\nthe journey works: run it with npm run k6 -- ${shown(out)} --target ${discovery.origin}`);
  return 0;
}

/** A path as the user would type it: relative under the current directory, absolute elsewhere. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** `--allow-host shop-cdn.example:8443`: host[:port], nothing else. */
export function checkHosts(hosts: string[]): string[] {
  for (const h of hosts) if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(h) && !/^\[[0-9a-f:]+\](:\d{1,5})?$/i.test(h)) throw new CliError(`--allow-host takes a host or host:port, not "${h}".`);
  return hosts.map((h) => h.toLowerCase());
}
