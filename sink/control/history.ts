// The durable history of finished runs: one JSON line per run in an append-only
// file (results/history.jsonl by default). Appends use O_APPEND and fsync before
// they resolve, so an acknowledged run survives a crash of the sink or the machine.
// An append is whole or not at all: one that fails (a full disk) is cut back off the
// file before it rejects, and the run is not marked written. A crash in the middle of
// a write can still leave a torn last line: the next start cuts it off, with one
// warning line (and should that fail, the next append starts on a fresh line).
import { appendFile, mkdir, open, readFile, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HistoryEntry } from '../../contract/sink-api.ts';
import { readHistory } from '../../contract/history-file.ts';
import { acquireLock, type Lock } from '../lock.ts';

/** GET /api/history's filters and page. */
export interface HistoryQuery {
  scenario?: string;
  promoName?: string;
  environment?: string;
  /** Entries to skip, newest first. */
  offset?: number;
  limit?: number;
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

export class History {
  private readonly entries: HistoryEntry[];
  /** Appends run one after another: each waits for the previous one's fsync. */
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    entries: HistoryEntry[],
    private readonly lock: Lock,
  ) {
    this.entries = entries;
  }

  /**
   * Takes the file for this sink alone (lock.ts: a second sink on it gets a
   * LockHeldError), creates the parent directory if needed, and reads the runs it holds
   * (see readHistory): they are the history again after a restart.
   */
  static async open(path: string, log: (line: string) => void = () => {}): Promise<History> {
    await mkdir(dirname(path), { recursive: true });
    const lock = await acquireLock(path, 'history file');
    try {
      await repairTornLine(path, log);
      const { entries } = await readHistory(path, log);
      return new History(path, entries, lock);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Waits for the appends under way, then lets another sink take the file. */
  async close(): Promise<void> {
    await this.queue;
    await this.lock.release();
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
      try {
        let written = 0;
        while (written < bytes.length) {
          const { bytesWritten } = await fh.write(bytes, written, bytes.length - written);
          written += bytesWritten;
        }
        await fh.sync();
      } catch (err) {
        // Whole or not at all: what landed of the line goes (a full disk writes part of it).
        // Should even that fail, the next start cuts the torn line off.
        await fh.truncate(size).catch(() => {});
        throw err;
      }
      if (size === 0) await syncDir(dirname(this.path));
    } finally {
      await fh.close();
    }
  }

  /** Every run, oldest first. */
  list(): HistoryEntry[] {
    return [...this.entries];
  }

  /** The runs that match the query's filters, newest first, one page of them; and how many match. */
  page(query: HistoryQuery = {}): { runs: HistoryEntry[]; total: number } {
    const matching: HistoryEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (query.scenario !== undefined && e.scenario !== query.scenario) continue;
      if (query.promoName !== undefined && e.tags?.promo_name !== query.promoName) continue;
      if (query.environment !== undefined && e.tags?.environment !== query.environment) continue;
      matching.push(e);
    }
    const offset = query.offset ?? 0;
    return { runs: matching.slice(offset, offset + (query.limit ?? matching.length)), total: matching.length };
  }

  /** The run with this testid; the latest one should the file hold it twice. */
  find(testid: string): HistoryEntry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.testid === testid) return this.entries[i];
    return undefined;
  }
}

/**
 * A history file that does not end with '\n' lost the end of its last append (a crash, a
 * full disk): the torn line is cut off, with one warning line. A whole entry that only
 * lacks its '\n' gets it, silently: nothing was lost.
 */
async function repairTornLine(path: string, log: (line: string) => void): Promise<void> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (data.length === 0 || data[data.length - 1] === 0x0a) return;
  const start = data.lastIndexOf(0x0a) + 1;
  const line = data.subarray(start).toString('utf8');
  const lineNumber = data.subarray(0, start).filter((b) => b === 0x0a).length + 1;
  const whole = (() => {
    try {
      const value = JSON.parse(line) as { testid?: unknown; endedAt?: unknown };
      return typeof value?.testid === 'string' && typeof value.endedAt === 'string';
    } catch {
      return false;
    }
  })();
  try {
    if (whole) {
      await appendFile(path, '\n');
    } else {
      await truncate(path, start);
      log(`history ${path}: the last line (line ${lineNumber}, ${data.length - start} bytes) was cut short by a crash or a full disk during a write; cut it off.`);
    }
  } catch (err) {
    log(`history ${path}: the last line (line ${lineNumber}) was cut short, and could not be cut off (${(err as Error).message}); skipped it.`);
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
