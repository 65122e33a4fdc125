// `report <testid> [--baseline <testid>] [--out FILE] [--pdf] [--sink URL | --out-dir DIR]`:
// a finished run's self-contained HTML report (report/html.ts), optionally beside a
// baseline run, optionally printed to PDF. The runs come from a sink's history and series
// store (--sink), or from the files a CLI run's embedded sink left in an out dir
// (history.jsonl and series/<testid>.json; <testid>/sink-data/ when another sink held it).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, joinDashValues, optionError } from './args.ts';
import { loadRuns } from './history.ts';
import { printToPdf, chromiumBinary } from './pdf.ts';
import { readHistory } from '../contract/history-file.ts';
import type { HistoryEntry, RunSeriesJson } from '../contract/sink-api.ts';
import { reportData, type ReportRun } from '../report/report-data.ts';
import { comparability } from '../report/compare.ts';
import { renderReportHtml } from '../report/html.ts';
import { loadReportAssets } from '../report/assets.ts';

export const REPORT_USAGE = `Usage: report <testid> [--baseline <testid>] [--out FILE] [--pdf] [--sink URL | --out-dir DIR]

  --baseline ID  compare with this run (the shop without the promo): promo impact and dashed lines
  --out FILE     the file to write (default: report.html, or report-vs-<baseline>.html, in the
                 run's own folder <out dir>/<testid>/); FILE.pdf writes the PDF there and the HTML beside it
  --pdf          print the report to A4 with headless Chromium (/usr/bin/chromium, or CHROMIUM_BIN),
                 beside the HTML with .pdf
  --sink URL     read the runs from a running sink (Bearer $SINK_TOKEN if set)
  --out-dir DIR  read them from a CLI run's out dir (default results)`;

const OPTIONS = {
  baseline: { type: 'string' },
  out: { type: 'string' },
  pdf: { type: 'boolean' },
  sink: { type: 'string' },
  'out-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The testids the sink takes (its routes' pattern): any k6 run's, not only the CLI's. */
const ANY_TESTID = /^[A-Za-z0-9_.-]{1,128}$/;

/** The latest entry of a run (a run reported twice has its last word last). */
const latestOf = (entries: HistoryEntry[], testid: string) => {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.testid === testid) return entries[i];
  return undefined;
};

/** Where the runs come from. */
export interface RunSource {
  describe: string;
  /** What to try when a run is not there. */
  hint: string;
  load(testid: string): Promise<ReportRun | null>;
}

/** A sink's history and series store. */
export function sinkSource(url: string): RunSource {
  const base = url.replace(/\/+$/, '');
  let runs: Promise<HistoryEntry[]> | null = null;
  return {
    describe: `the sink at ${base}`,
    hint: '`history --sink URL` lists the runs it recorded.',
    async load(testid) {
      runs ??= loadRuns({ sink: base });
      const entry = latestOf(await runs, testid);
      if (!entry) return null;
      const headers: Record<string, string> = process.env.SINK_TOKEN ? { authorization: `Bearer ${process.env.SINK_TOKEN}` } : {};
      const res = await fetch(`${base}/api/runs/${encodeURIComponent(testid)}/series`, { headers, signal: AbortSignal.timeout(15_000) }).catch((err: Error) => {
        throw new CliError(`Cannot reach the sink at ${base}: ${(err as { cause?: Error }).cause?.message ?? err.message}.`);
      });
      const body = (await res.json().catch(() => {
        if (res.ok) throw new CliError(`The sink at ${base} answered the series of ${testid} with something that is not JSON.`);
        return null;
      })) as (RunSeriesJson & { code?: string; message?: string }) | null;
      // A series file the sink cannot read: say which, as for an out dir (readSeriesFile).
      if (body?.code === 'SINK_ERR_SERIES_UNREADABLE') throw new CliError(`The sink at ${base}: ${body.message}`);
      const series = res.ok ? body : null;
      return { entry, series };
    },
  };
}

/** A CLI run's out dir: the embedded sink's data directory (or the run's own sink-data/). */
export function outDirSource(dir: string): RunSource {
  const root = resolve(dir);
  return {
    describe: root,
    // A run made with --sink is in that sink's history, not in the out dir.
    hint: `\`history --out-dir ${root}\` lists the runs recorded there; a run reported to a sink of its own (--sink) is in that sink's history: add --sink URL.`,
    async load(testid) {
      for (const dataDir of [root, join(root, testid, 'sink-data')]) {
        const { entries } = await readHistory(join(dataDir, 'history.jsonl'));
        const entry = latestOf(entries, testid);
        if (!entry) continue;
        const file = join(dataDir, 'series', `${testid}.json`);
        const series = existsSync(file) ? readSeriesFile(file) : null;
        return { entry, series };
      }
      return null;
    },
  };
}

function readSeriesFile(file: string): RunSeriesJson {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunSeriesJson;
  } catch (err) {
    throw new CliError(`${file} is not a run's series (${(err as Error).message}); move it away to make the report without charts.`);
  }
}

/**
 * Where the report goes: `out` as given (FILE.pdf: the PDF there, the HTML beside it as
 * FILE.html), else the run's own folder, `<dir>/<testid>/report.html` (report-vs-<baseline>.html
 * beside a baseline, so the run's own report stays).
 */
export function reportPaths(out: string | undefined, dir: string, testid: string, baselineId: string | null, pdf: boolean): { html: string; pdf: string | null } {
  const file = out ?? join(dir, testid, baselineId ? `report-vs-${baselineId}.html` : 'report.html');
  if (/\.pdf$/i.test(file)) return { html: file.replace(/\.pdf$/i, '.html'), pdf: file };
  return { html: file, pdf: pdf ? file.replace(/\.html?$/i, '') + '.pdf' : null };
}

/** The report of `testid` (beside `baselineId`'s run) written to `paths.html`, and printed to `paths.pdf` when set. */
export async function writeReport(source: RunSource, testid: string, baselineId: string | null, paths: { html: string; pdf: string | null }): Promise<{ html: string; pdf: string | null }> {
  const [run, baseline] = await Promise.all([source.load(testid), baselineId ? source.load(baselineId) : Promise.resolve(null)]);
  const missing = [run ? null : testid, baselineId && !baseline ? baselineId : null].filter((x): x is string => x !== null);
  if (missing.length > 0) throw new CliError(`No finished run with testid ${missing.join(' or ')} in ${source.describe}; ${source.hint}`);
  // Only like with like: the report's promo impact compares the same scenario and journey, runs whose tests reached the shop.
  const refused = baseline ? comparability(baseline.entry, run!.entry) : null;
  if (refused !== null) throw new CliError(refused);
  const html = renderReportHtml(reportData(run!, baseline), await loadReportAssets());
  mkdirSync(dirname(resolve(paths.html)), { recursive: true });
  writeFileSync(paths.html, html);
  if (paths.pdf) await printToPdf(paths.html, paths.pdf);
  return paths;
}

export async function reportCommand(argv: string[], say: (line: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: joinDashValues(argv, OPTIONS), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw optionError(err, 'report takes', OPTIONS);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    say(REPORT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError(positionals.length === 0 ? 'report needs the testid of a finished run: report <testid>.' : `report takes one testid, not ${positionals.length}: ${positionals.join(' ')}.`);
  const testid = positionals[0]!;
  for (const id of [testid, values.baseline]) if (id !== undefined && !ANY_TESTID.test(id)) throw new CliError(`"${id}" is not a testid (letters, digits, _ . and -).`);
  if (values.baseline === testid) throw new CliError('--baseline must be another run than the one reported.');
  if (values.sink !== undefined && values['out-dir'] !== undefined) throw new CliError('Give either --sink or --out-dir, not both.');
  if (values.sink !== undefined && !/^https?:\/\/[^\s/]+/.test(values.sink)) throw new CliError(`--sink must be an http:// or https:// URL, not "${values.sink}".`);
  if (values.out === '') throw new CliError('--out needs a file name.');
  if (values['out-dir'] === '') throw new CliError('--out-dir needs a directory.');
  const dir = values['out-dir'] ?? 'results';
  const source = values.sink !== undefined ? sinkSource(values.sink) : outDirSource(dir);
  const paths = reportPaths(values.out, dir, testid, values.baseline ?? null, values.pdf === true);
  if (paths.pdf) chromiumBinary(); // before any work: a missing Chromium is one sentence
  const written = await writeReport(source, testid, values.baseline ?? null, paths);
  say(`report ${resolve(written.html)}`);
  if (written.pdf) say(`pdf ${resolve(written.pdf)}`);
  return 0;
}
