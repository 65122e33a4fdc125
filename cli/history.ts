// `history` and `compare`: the runs the sink recorded, from the history file or
// from a running sink. Every user mistake is a CliError with one plain sentence.
import { parseArgs } from 'node:util';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, joinDashValues, optionError } from './args.ts';
import { comparability, compareRuns, formatComparison } from '../report/compare.ts';
import { readHistory } from '../contract/history-file.ts';
import type { HistoryEntry } from '../contract/sink-api.ts';
import { historyCsv } from '../report/history-csv.ts';
import { sparkline, trendOf, type Trend } from '../report/trend.ts';
import { gradeText } from '../report/sentences.ts';

export const DEFAULT_HISTORY_FILE = 'results/history.jsonl';

interface Source {
  file?: string;
  outDir?: string;
  sink?: string;
}

type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

function parse(command: string, argv: string[], options: OptionSpec) {
  try {
    return parseArgs({ args: joinDashValues(argv, options), options, allowPositionals: true, strict: true });
  } catch (err) {
    throw optionError(err, `${command} takes`, options);
  }
}

export function source(values: { file?: string | boolean; sink?: string | boolean; 'out-dir'?: string | boolean }): Source {
  const file = typeof values.file === 'string' ? values.file : undefined;
  const sink = typeof values.sink === 'string' ? values.sink : undefined;
  const outDir = typeof values['out-dir'] === 'string' ? values['out-dir'] : undefined;
  if ([file, sink, outDir].filter((x) => x !== undefined).length > 1) throw new CliError('Give one of --file, --out-dir and --sink, not more.');
  if (file === '') throw new CliError('--file needs a path.');
  if (outDir === '') throw new CliError('--out-dir needs a directory.');
  if (sink !== undefined && !/^https?:\/\/[^\s/]+/.test(sink)) throw new CliError(`--sink must be an http:// or https:// URL, not "${sink}".`);
  if (sink !== undefined) return { sink };
  return outDir !== undefined ? { outDir: resolve(outDir) } : { file: file ?? DEFAULT_HISTORY_FILE };
}

export function describe(src: Source): string {
  return src.sink !== undefined ? `the sink at ${src.sink}` : (src.outDir ?? src.file!);
}

/**
 * The history files of a CLI out dir: its embedded sink's (DIR/history.jsonl), then each
 * run's own (DIR/<testid>/sink-data/history.jsonl), kept when another sink held DIR.
 */
export function outDirHistoryFiles(dir: string): string[] {
  const own = (() => {
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => join(dir, d.name, 'sink-data', 'history.jsonl'))
        .filter((f) => existsSync(f))
        .sort();
    } catch {
      return [];
    }
  })();
  return [join(dir, 'history.jsonl'), ...own];
}

/** The recorded runs, oldest first. Warnings about skipped lines go to stderr. */
export async function loadRuns(src: Source, warn: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<HistoryEntry[]> {
  if (src.sink === undefined) {
    const files = src.outDir !== undefined ? outDirHistoryFiles(src.outDir) : [src.file!];
    const entries: HistoryEntry[] = [];
    for (const file of files) {
      try {
        entries.push(...(await readHistory(file, warn)).entries);
      } catch (err) {
        throw new CliError(`Cannot read the history file ${file}: ${(err as Error).message}.`);
      }
    }
    // Several files: one history, oldest first by the end of each run.
    return files.length === 1 ? entries : entries.sort((a, b) => a.endedAt.localeCompare(b.endedAt));
  }
  const base = src.sink.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = process.env.SINK_TOKEN;
  if (token) headers.authorization = `Bearer ${token}`;
  // The sink pages its history newest first: follow every page, then put it oldest first as the file is.
  const newestFirst: HistoryEntry[] = [];
  for (let path: string | null = `/api/history?limit=${HISTORY_PAGE}`; path !== null; ) {
    const url = `${base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new CliError(`Cannot reach the sink at ${url}: ${cause}.`);
    }
    if (!res.ok) {
      const hint = res.status === 401 || res.status === 403 ? ' (set SINK_TOKEN to the sink\'s token)' : '';
      throw new CliError(`The sink answered ${res.status} to GET ${url}${hint}.`);
    }
    let body: { runs?: unknown; next?: unknown };
    try {
      body = (await res.json()) as { runs?: unknown; next?: unknown };
    } catch {
      throw new CliError(`The sink's answer to GET ${url} is not JSON.`);
    }
    if (!Array.isArray(body?.runs)) throw new CliError(`The sink's answer to GET ${url} has no "runs" list.`);
    newestFirst.push(...(body.runs as HistoryEntry[]));
    path = typeof body.next === 'string' && body.next.startsWith('/api/history?') ? body.next : null;
  }
  return newestFirst.reverse();
}

/** Runs asked of the sink per request. */
const HISTORY_PAGE = 1000;

function fixed(x: number | null | undefined, decimals: number): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(decimals) : '-';
}

/** "2026-11-27T08:05:00.123Z" → "2026-11-27 08:05:00Z". */
function shortTime(iso: string | null): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** testid, ended, exit reason, grade, p95 (ms), errors %, rps; oldest first. */
export function historyTable(runs: HistoryEntry[]): string {
  const header = ['testid', 'ended (UTC)', 'exit reason', 'grade', 'p95 ms', 'errors %', 'rps'];
  const rows = runs.map((r) => [
    r.testid,
    shortTime(r.endedAt),
    r.exitReason,
    gradeText(r),
    fixed(r.p95Ms, 1),
    fixed(typeof r.errorRatio === 'number' ? r.errorRatio * 100 : null, 2),
    fixed(r.rps, 1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = (i: number) => i >= 4;
  const line = (cells: string[]) => cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** The trend as text: what it follows, the sparkline, the runs, the sentence. */
export function trendText(trend: Trend): string {
  if (trend.runs.length === 0) return `No runs of ${trend.scope} recorded yet.\n`;
  const lines = [`Trend of ${trend.scope}: the last ${trend.runs.length} run${trend.runs.length === 1 ? '' : 's'}, oldest first`, `p95 ${sparkline(trend.runs)}`, ''];
  const header = ['testid', 'ended (UTC)', 'grade', 'p95 ms', 'errors %'];
  const rows = trend.runs.map((r) => [r.testid, shortTime(r.endedAt), r.grade?.text ?? '-', fixed(r.p95Ms, 1), fixed(typeof r.errorRatio === 'number' ? r.errorRatio * 100 : null, 2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  lines.push(line(header), ...rows.map(line));
  if (trend.summary) lines.push('', trend.summary);
  return lines.join('\n') + '\n';
}

/** `history [--csv | --trend] [--scenario S] [--promo-type T] [--promo-name N] [--file PATH] [--sink URL]` */
export async function historyCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parse('history', argv, {
    csv: { type: 'boolean' },
    trend: { type: 'boolean' },
    scenario: { type: 'string' },
    'promo-type': { type: 'string' },
    'promo-name': { type: 'string' },
    file: { type: 'string' },
    'out-dir': { type: 'string' },
    sink: { type: 'string' },
  });
  if (positionals.length > 0) throw new CliError(`history takes no arguments besides its options, not "${positionals.join(' ')}".`);
  const promoType = typeof values['promo-type'] === 'string' ? values['promo-type'] : undefined;
  if (promoType === '') throw new CliError('--promo-type needs a promo type.');
  if (values.csv && values.trend) throw new CliError('Give either --csv or --trend, not both.');
  const scenario = typeof values.scenario === 'string' ? values.scenario : undefined;
  const promoName = typeof values['promo-name'] === 'string' ? values['promo-name'] : undefined;
  if (scenario === '') throw new CliError('--scenario needs a scenario name.');
  if (promoName === '') throw new CliError('--promo-name needs a promo name.');
  const src = source(values);
  const all = await loadRuns(src);
  if (values.trend) {
    out.write(trendText(trendOf(all, { scenario, promoType, promoName })));
    return 0;
  }
  const runs = all.filter(
    (r) => (scenario === undefined || r.scenario === scenario) && (promoType === undefined || (r.tags?.promo_type ?? 'none') === promoType) && (promoName === undefined || r.tags?.promo_name === promoName),
  );
  if (values.csv) out.write(historyCsv(runs));
  else if (runs.length === 0) out.write(`No runs recorded yet in ${describe(src)}${scenario !== undefined || promoType !== undefined || promoName !== undefined ? ' that match' : ''}.\n`);
  else out.write(historyTable(runs));
  return 0;
}

/** Colour only on a terminal, never with --no-color or NO_COLOR (https://no-color.org). */
function wantsColour(out: NodeJS.WritableStream, noColor: boolean): boolean {
  if (noColor) return false;
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return (out as { isTTY?: boolean }).isTTY === true;
}

/** `compare <baseline> <candidate> [--json] [--file PATH] [--sink URL] [--no-color]` */
export async function compareCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parse('compare', argv, {
    json: { type: 'boolean' },
    file: { type: 'string' },
    'out-dir': { type: 'string' },
    sink: { type: 'string' },
    'no-color': { type: 'boolean' },
  });
  if (positionals.length !== 2) {
    throw new CliError(
      positionals.length < 2
        ? 'compare needs two testids: compare <baseline testid> <candidate testid>.'
        : `compare takes two testids, not ${positionals.length}: ${positionals.join(' ')}.`,
    );
  }
  const [baselineId, candidateId] = positionals as [string, string];
  const src = source(values);
  const runs = await loadRuns(src);
  const find = (id: string) => {
    for (let i = runs.length - 1; i >= 0; i--) if (runs[i]!.testid === id) return runs[i];
    return undefined;
  };
  const baseline = find(baselineId);
  const candidate = find(candidateId);
  const missing = [...new Set([baseline ? null : baselineId, candidate ? null : candidateId])].filter((x): x is string => x !== null);
  if (missing.length === 1) throw new CliError(`No run with testid ${missing[0]} in ${describe(src)}; \`history\` lists the recorded runs.`);
  if (missing.length === 2) throw new CliError(`No runs with testids ${missing[0]} and ${missing[1]} in ${describe(src)}; \`history\` lists the recorded runs.`);
  // Only like with like: another scenario or journey, or a run whose test is broken, is refused in one sentence.
  const refused = comparability(baseline!, candidate!);
  if (refused !== null) throw new CliError(refused);
  const comparison = compareRuns(baseline!, candidate!);
  if (values.json) out.write(JSON.stringify(comparison, null, 2) + '\n');
  else out.write(formatComparison(comparison, { colour: wantsColour(out, values['no-color'] === true) }));
  return 0;
}
