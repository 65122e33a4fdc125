// The per-run time series of finished runs, kept with the history: one JSON file per run
// in <history dir>/series/<testid>.json (written to a temporary name, then renamed, so a
// crash leaves the old file or the new one, never half of one), and the most recent ones
// in memory.
//
// Bounded twice: in memory by points (maxMemoryPoints over every run held; the oldest
// run goes first), on disk by runs (maxFiles; the oldest file goes first). A live run's
// series is itself bounded by MAX_POINTS (series.ts), so one run never outgrows either.
import { mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSeriesJson } from '../../contract/sink-api.ts';
import { SinkErrors } from '../errors.ts';

/** About 100 full runs of 1,200 points; a point is some 200 bytes in memory. */
export const DEFAULT_MAX_MEMORY_POINTS = 120_000;
export const DEFAULT_MAX_FILES = 1_000;
const SAFE_TESTID = /^[A-Za-z0-9_.-]{1,128}$/;

export interface SeriesStoreOptions {
  /** The directory of the files; null keeps series in memory only. */
  dir: string | null;
  maxMemoryPoints?: number;
  maxFiles?: number;
  log?: (line: string) => void;
}

export class SeriesStore {
  /** Insertion order is age: the first key is the oldest run held. */
  private readonly memory = new Map<string, RunSeriesJson>();
  private points = 0;
  /** Unreadable files already logged: each once. */
  private readonly reported = new Set<string>();
  private writes: Promise<void> = Promise.resolve();
  readonly maxMemoryPoints: number;
  readonly maxFiles: number;

  constructor(private readonly options: SeriesStoreOptions) {
    this.maxMemoryPoints = options.maxMemoryPoints ?? DEFAULT_MAX_MEMORY_POINTS;
    this.maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
  }

  /** Points held in memory, over every run. */
  get pointsInMemory(): number {
    return this.points;
  }

  get runsInMemory(): number {
    return this.memory.size;
  }

  /** Keeps a finished run's series; resolves once its file is written (when there is a directory). */
  put(series: RunSeriesJson): Promise<void> {
    const copy: RunSeriesJson = { testid: series.testid, stepMs: series.stepMs, points: series.points.map((p) => ({ ...p })) };
    this.remember(copy);
    const dir = this.options.dir;
    if (dir === null || !SAFE_TESTID.test(series.testid)) return Promise.resolve();
    const done = this.writes.then(() => this.writeFile(dir, copy));
    this.writes = done.catch((err: Error) => this.options.log?.(`series of ${series.testid}: not written: ${err.message}`));
    return done;
  }

  /**
   * A finished run's series: from memory, else from its file; null when neither has it.
   * A file that is there but cannot be read as this run's series throws
   * SINK_ERR_SERIES_UNREADABLE, naming it; the log says so once per file.
   */
  async get(testid: string): Promise<RunSeriesJson | null> {
    const held = this.memory.get(testid);
    if (held) return held;
    const dir = this.options.dir;
    if (dir === null || !SAFE_TESTID.test(testid)) return null;
    await this.writes;
    const path = join(dir, `${testid}.json`);
    let parsed: RunSeriesJson;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8')) as RunSeriesJson;
      if (parsed?.testid !== testid || !Array.isArray(parsed.points)) throw new Error(parsed?.testid !== testid ? `it holds the series of ${JSON.stringify(parsed?.testid)}` : 'it has no points');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      const why = (err as Error).message;
      if (!this.reported.has(path)) {
        this.reported.add(path);
        this.options.log?.(`series of ${testid}: ${path} is not readable (${why}); its run is answered with SINK_ERR_SERIES_UNREADABLE until the file is moved away`);
      }
      throw new SinkErrors.SERIES_UNREADABLE(JSON.stringify(testid), path, why);
    }
    this.remember(parsed);
    return parsed;
  }

  /** Waits for the files being written. */
  async flush(): Promise<void> {
    await this.writes;
  }

  private remember(series: RunSeriesJson): void {
    const previous = this.memory.get(series.testid);
    if (previous) {
      this.points -= previous.points.length;
      this.memory.delete(series.testid);
    }
    this.memory.set(series.testid, series);
    this.points += series.points.length;
    for (const [testid, held] of this.memory) {
      if (this.points <= this.maxMemoryPoints || held === series) break;
      this.memory.delete(testid);
      this.points -= held.points.length;
    }
  }

  private async writeFile(dir: string, series: RunSeriesJson): Promise<void> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${series.testid}.json`);
    const temporary = `${path}.${process.pid}.tmp`;
    const fh = await open(temporary, 'w');
    try {
      await fh.writeFile(JSON.stringify(series));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temporary, path);
    await this.prune(dir);
  }

  /** Past maxFiles, the oldest files (by modification time) go. */
  private async prune(dir: string): Promise<void> {
    const names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
    if (names.length <= this.maxFiles) return;
    const aged = await Promise.all(names.map(async (name) => ({ name, at: (await stat(join(dir, name)).catch(() => null))?.mtimeMs ?? 0 })));
    aged.sort((a, b) => a.at - b.at);
    for (const { name } of aged.slice(0, aged.length - this.maxFiles)) await unlink(join(dir, name)).catch(() => {});
  }
}
