// `forecast`: before the test, what past ramps against the same target and journey say of
// the shop's capacity (report/forecast.ts), the band and the runs it rests on, whether it
// holds the expected peak, and the ramp to try next.
import { parseArgs } from 'node:util';
import { CliError, parseExpect } from './args.ts';
import { describe, loadRuns, source } from './history.ts';
import { expectationOf, forecastFromHistory, type PastForecast } from '../report/forecast.ts';
import { expectationSentence, forecastSentence, rate } from '../report/sentences.ts';

const OPTIONS = {
  target: { type: 'string' },
  scenario: { type: 'string' },
  'promo-name': { type: 'string' },
  'expect-users': { type: 'string' },
  'expect-rps': { type: 'string' },
  file: { type: 'string' },
  'out-dir': { type: 'string' },
  sink: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!.replace(/\..*$/, '');
    throw new CliError(`${message}; forecast takes ${Object.keys(OPTIONS).map((o) => `--${o}`).join(', ')}.`);
  }
}

const fixed = (x: number | null | undefined, d: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
const whole = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? String(Math.round(x)) : '-');

/** The forecast as text: the answer first, then the model, the runs, the ramp to try. */
export function forecastText(f: PastForecast, expectation: string | null): string {
  const lines = [`Forecast for ${f.target ?? 'the newest target'} (scenario ${f.scenario}; journey: ${f.journey.join(', ') || 'no page types'}), from ${f.runs.length} past ramp${f.runs.length === 1 ? '' : 's'}:`];
  if (expectation) lines.push(`  ${expectation}`);
  // Past ramps that broke found the limit: a floor of theirs is no "kept up with all the load".
  lines.push(`  ${forecastSentence(f.forecast!, f.forecast!.kind === 'floor' && f.breakVus !== null)}`);
  if (f.breakVus !== null) lines.push(`  The past ramps broke at about ${Math.round(f.breakVus)} users.`);
  lines.push('', '  The runs it rests on, oldest first:');
  const header = ['testid', 'ended (UTC)', 'peak req/s', '95 % band', 'users', 'R²'];
  const rows = f.runs.map((r) => [
    r.testid,
    r.endedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    r.forecast.kind === 'peak' ? rate(r.forecast.peakRps!) : `≥ ${rate(r.forecast.lowRps!)}`,
    r.forecast.kind === 'peak' ? `${rate(r.forecast.lowRps!)}–${rate(r.forecast.highRps!)}` : '-',
    whole(r.forecast.peakVus ?? r.forecast.lowVus),
    fixed(r.forecast.r2, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) lines.push(`    ${row.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()}`);
  if (f.suggestedVus !== null) {
    const why = f.forecast!.kind === 'floor' ? 'twice as far as the past ramps went, to find the limit they never reached' : f.breakVus !== null ? 'just past the predicted break, so the test finds the limit without going far beyond it' : 'just past the top of the band, where the shop should saturate';
    lines.push('', `  Next ramp: npm run k6 -- ${f.scenario}${f.target ? ` --target ${f.target}` : ''} --vus ${f.suggestedVus}   (${why})`);
  }
  return lines.join('\n') + '\n';
}

/** `forecast [--target URL] [--scenario S] [--promo-name N] [--expect-users N | --expect-rps R] [--file PATH | --out-dir DIR | --sink URL] [--json]` */
export async function forecastCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parse(argv);
  if (positionals.length > 0) throw new CliError(`forecast takes no arguments besides its options, not "${positionals.join(' ')}".`);
  if (values.target !== undefined && !/^https?:\/\/[^\s/]+/.test(values.target)) throw new CliError(`--target must be an http:// or https:// URL, not "${values.target}".`);
  if (values.scenario === '') throw new CliError('--scenario needs a scenario name.');
  if (values['promo-name'] === '') throw new CliError('--promo-name needs a promo name.');
  const expect = parseExpect(values['expect-users'], values['expect-rps']);
  const src = source(values);
  const entries = await loadRuns(src);
  const f = forecastFromHistory(entries, { target: values.target, scenario: values.scenario, promoName: values['promo-name'] });
  if (f.forecast === null) {
    const against = f.target ?? values.target;
    throw new CliError(
      `No past ${f.scenario} with a capacity forecast${against ? ` against ${against}` : ''}${values['promo-name'] ? ` for ${values['promo-name']}` : ''} in ${describe(src)}: run \`npm run k6 -- ${f.scenario}${against ? ` --target ${against}` : ''}\` first.`,
    );
  }
  const expectation = expect ? expectationOf(f.forecast, expect) : null;
  const reached = Math.max(...f.runs.map((r) => entries.find((e) => e.testid === r.testid)?.maxVus ?? 0));
  const sentence = expectation ? expectationSentence(expectation, f.forecast, reached, f.forecast.kind === 'floor' && f.breakVus !== null) : null;
  if (values.json) out.write(JSON.stringify({ ...f, ...(expectation ? { expectation: { ...expectation, sentence } } : {}) }, null, 2) + '\n');
  else out.write(forecastText(f, sentence));
  return 0;
}
