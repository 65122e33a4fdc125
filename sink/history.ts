// The durable history of finished runs: one JSON line per run in an append-only
// file (results/history.jsonl by default). Appends use O_APPEND and fsync before
// they resolve, so an acknowledged run survives a crash of the sink or the machine.
// A crash in the middle of a write can leave a torn last line; reading skips it
// with a warning, and the next append starts on a fresh line so its own line is
// intact.
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface HistoryEntry {
  testid: string;
  scenario: string | null;
  /** The run's labels: environment, promo_type, promo_name, intensity, … */
  tags: Record<string, string>;
  target: string | null;
  /** ISO 8601. */
  startedAt: string | null;
  /** ISO 8601. */
  endedAt: string;
  /** k6's exit code; null when the run ended without one (stale markers only). */
  exitCode: number | null;
  /** See exitReason(). */
  exitReason: string;
  requests: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** failed / total, between 0 and 1. */
  errorRatio: number | null;
  rps: number | null;
  maxVus: number;
  /** passed / total checks, between 0 and 1. */
  checksRate: number | null;
  iterations: number;
  /** text is formatGrade()'s "A (97/100)" or "N/A"; colour is colourFor()'s. */
  grade: { letter: string; score: number | null; colour: string; text: string };
  breakingPointVus: number | null;
}

/** Why a run ended, in words, from k6's exit code (null: the sink only saw stale markers). */
export function exitReason(exitCode: number | null, abortOnFail: boolean): string {
  switch (exitCode) {
    case null:
      return 'ended (stale markers)';
    case 0:
      return 'completed';
    case 99:
      return abortOnFail ? 'aborted by thresholds' : 'thresholds failed';
    case 103:
      return 'stopped manually';
    case 105:
      return 'aborted externally';
    case 108:
      return 'aborted by the script';
    default:
      return `k6 exit ${exitCode}`;
  }
}

function isEntry(value: unknown): value is HistoryEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.testid === 'string' && v.testid !== '' && typeof v.endedAt === 'string' && typeof v.grade === 'object' && v.grade !== null;
}

export interface ReadResult {
  entries: HistoryEntry[];
  /** False when the file is missing, empty or already ends with '\n'. */
  tornTail: boolean;
}

/**
 * Reads a history file without creating anything; a missing file is an empty history.
 * A line that does not parse is skipped with one warning naming its line number; the
 * last line, when the file does not end with '\n', is a write cut short by a crash.
 */
export async function readHistory(path: string, log: (line: string) => void = () => {}): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], tornTail: false };
    throw err;
  }
  const lines = text.split('\n');
  // After a final '\n' split() gives one empty string: nothing torn.
  const tail = lines.pop()!;
  const entries: HistoryEntry[] = [];
  const parse = (line: string): HistoryEntry | null => {
    try {
      const value: unknown = JSON.parse(line);
      return isEntry(value) ? value : null;
    } catch {
      return null;
    }
  };
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const entry = parse(line);
    if (entry) entries.push(entry);
    else log(`history ${path}: line ${i + 1} is not a run summary; skipped it.`);
  });
  let tornTail = false;
  if (tail !== '') {
    tornTail = true;
    // The bytes of a whole line may have landed without their '\n'; keep such a line.
    const entry = parse(tail);
    if (entry) entries.push(entry);
    else log(`history ${path}: the last line (line ${lines.length + 1}) was cut short, probably by a crash during a write; skipped it.`);
  }
  return { entries, tornTail };
}

export class History {
  private readonly entries: HistoryEntry[];
  /** Appends run one after another: each waits for the previous one's fsync. */
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    entries: HistoryEntry[],
  ) {
    this.entries = entries;
  }

  /** Reads the existing history (see readHistory) and creates the parent directory if needed. */
  static async open(path: string, log: (line: string) => void = () => {}): Promise<History> {
    await mkdir(dirname(path), { recursive: true });
    const { entries } = await readHistory(path, log);
    return new History(path, entries);
  }

  /**
   * Appends one JSON line and resolves once it is fsync'ed. When the file does not end
   * with '\n' (a torn line from a crash, or a whole line missing its '\n'), the write
   * starts with '\n' so that the new line stands on its own.
   */
  append(entry: HistoryEntry): Promise<void> {
    const done = this.queue.then(() => this.write(JSON.stringify(entry) + '\n'));
    // A failed append rejects for its caller but does not block the ones after it.
    this.queue = done.catch(() => {});
    return done.then(() => {
      this.entries.push(entry);
    });
  }

  private async write(line: string): Promise<void> {
    const fh = await open(this.path, 'a+');
    try {
      const { size } = await fh.stat();
      let prefix = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
      // One write call with O_APPEND: the whole line lands at the end of the file.
      const bytes = Buffer.from(prefix + line, 'utf8');
      let written = 0;
      while (written < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, written, bytes.length - written);
        written += bytesWritten;
      }
      await fh.sync();
      if (size === 0) await syncDir(dirname(this.path));
    } finally {
      await fh.close();
    }
  }

  /** Every run, oldest first. */
  list(): HistoryEntry[] {
    return [...this.entries];
  }

  /** The run with this testid; the latest one should the file hold it twice. */
  find(testid: string): HistoryEntry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.testid === testid) return this.entries[i];
    return undefined;
  }
}

/** fsync the directory so a newly created file's name is durable too; best effort. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory.
  }
}

export const HISTORY_CSV_COLUMNS = [
  'testid',
  'scenario',
  'environment',
  'promo_type',
  'promo_name',
  'intensity',
  'target',
  'started_at',
  'ended_at',
  'exit_code',
  'exit_reason',
  'requests',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'error_ratio',
  'rps',
  'max_vus',
  'checks_rate',
  'grade',
  'score',
  'breaking_point_vus',
] as const;

/** RFC 4180: quote a field that holds a comma, a quote or a line break; double the quotes. */
function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The history as CSV (RFC 4180: CRLF between records, fields quoted when needed).
 * Ratios stay ratios (0.004, not 0.4 %); a missing value is an empty field.
 */
export function historyCsv(entries: HistoryEntry[]): string {
  const rows = [HISTORY_CSV_COLUMNS.join(',')];
  for (const e of entries) {
    const t = e.tags ?? {};
    rows.push(
      [
        e.testid,
        e.scenario,
        t.environment,
        t.promo_type,
        t.promo_name,
        t.intensity,
        e.target,
        e.startedAt,
        e.endedAt,
        e.exitCode,
        e.exitReason,
        e.requests,
        e.p50Ms,
        e.p95Ms,
        e.p99Ms,
        e.errorRatio,
        e.rps,
        e.maxVus,
        e.checksRate,
        e.grade?.letter,
        e.grade?.score,
        e.breakingPointVus,
      ]
        .map(csvField)
        .join(','),
    );
  }
  return rows.join('\r\n') + '\r\n';
}
