// The run events: how grading and run control tell the rest of the sink what happened
// to a run, and the only way they do. Grading publishes touched, threshold breached, guard
// tripped and graded; run control publishes aborted and finished. Listeners subscribe when
// they are built (run control, the notifier, the fan-out), so nothing is wired by assigning
// a callback afterwards, and a listener that fails never fails the publisher.
import type { CapacityJson, FiguresJson, ForecastJson, GuardTripJson, HistoryEntry, ThresholdResultJson } from '../../contract/sink-api.ts';
import type { Grade } from '../../lib/grade.ts';

/** One window's figures, as the API carries them (contract/sink-api.ts) but with the grade itself. */
export type Figures = Omit<FiguresJson, 'grade'> & { grade: Grade };

/**
 * Why a grade is withheld, in the words of its first clause, for a label: "The test could
 * not reach the shop", "The journey is broken", "no requests"; '' for a grade with a letter.
 * The whole sentence goes where text may (InfluxDB's `why` field, the run's JSON).
 */
export function withheldWhy(grade: Pick<Grade, 'letter' | 'reason'>): string {
  return grade.letter === 'N/A' && grade.reason ? grade.reason.split(':')[0]! : '';
}

/**
 * A ramp's capacity forecast as the values of promo_capacity_forecast_rps{bound}: the peak
 * and its band's low and high ends; a floor is a low bound alone ("at least").
 */
export function forecastBounds(f: ForecastJson | null | undefined): Array<['peak' | 'low' | 'high', number]> {
  if (!f) return [];
  const bounds: Array<['peak' | 'low' | 'high', number | null]> = f.kind === 'peak' ? [['peak', f.peakRps], ['low', f.lowRps], ['high', f.highRps]] : [['low', f.lowRps]];
  return bounds.filter((b): b is ['peak' | 'low' | 'high', number] => b[1] !== null && Number.isFinite(b[1]));
}

/** What a listener reads of a run (grading's RunState is one). */
export interface RunView {
  readonly testid: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Sample time (ms) of the run's first and latest samples. */
  readonly firstSampleAt: number;
  readonly lastSampleAt: number;
  /** The live window's figures and the whole run's. */
  figures(): { live: Figures; run: Figures };
}

/** A run's grades at one moment: what the fan-out sends to Prometheus and InfluxDB. */
export interface GradedRun {
  testid: string;
  tags: Record<string, string>;
  p95Source: string | null;
  status: string;
  breakingPointVus: number | null;
  live: Figures;
  run: Figures;
  /** Records spooled before these were kept lack them. */
  capacity?: CapacityJson;
  thresholds?: Array<Pick<ThresholdResultJson, 'metric' | 'threshold' | 'ok' | 'value' | 'requests'>>;
}

export interface GradeRecord {
  /** Wall-clock ms of the emission: the timestamp of every grade sample in it. */
  t: number;
  runs: GradedRun[];
}

/** What the run was aborted by, for the people told about it. */
export interface RunAborted {
  testid: string;
  tags: Record<string, string>;
  target: string | null;
  /** formatGrade() of the run's grade. */
  grade: string;
  /** "stopped manually", "aborted by thresholds", "aborted by merged threshold …". */
  reason: string;
  /** How it ended, in the run's own words (VerdictJson.ending): "Stopped by hand at 12 of 20 users; the shop held until then." */
  ending?: string | null;
}

export interface RunEventMap {
  /** A batch changed the run's figures: once per batch that touched the run. */
  touched: RunView;
  /** A threshold with abortOnFail failed on the run's merged data: once per run. */
  thresholdBreached: { run: RunView; threshold: ThresholdResultJson };
  /** A rule of the run's guard held for its duration on the merged data: once per run. */
  guardTripped: { run: RunView; trip: GuardTripJson };
  /** The grades of the runs that changed since the last record (every --grade-interval). */
  graded: GradeRecord;
  /** The run was aborted (a threshold, k6's or the sink's merged one, or a manual stop): just before its finished event. */
  aborted: RunAborted;
  /** The run ended and its history entry is written. */
  finished: HistoryEntry;
}

export type RunEventName = keyof RunEventMap;
export type RunEventListener<K extends RunEventName> = (payload: RunEventMap[K]) => void | Promise<void>;

const SETTLED: Promise<void> = Promise.resolve();

export class RunEvents {
  private readonly listeners: { [K in RunEventName]: RunEventListener<K>[] } = { touched: [], thresholdBreached: [], guardTripped: [], graded: [], aborted: [], finished: [] };

  /** `log`: where a listener's failure is told. */
  constructor(private readonly log: (line: string) => void = () => {}) {}

  on<K extends RunEventName>(event: K, listener: RunEventListener<K>): void {
    this.listeners[event].push(listener);
  }

  /**
   * Calls the event's listeners in the order they subscribed, synchronously. Resolves
   * once the promises they returned have settled; a listener that throws or rejects is
   * logged, and the others still run.
   */
  emit<K extends RunEventName>(event: K, payload: RunEventMap[K]): Promise<void> {
    let pending: Promise<void>[] | null = null;
    for (const listener of this.listeners[event]) {
      try {
        const result = listener(payload);
        if (result) (pending ??= []).push(result.catch((err: unknown) => this.failed(event, err)));
      } catch (err) {
        this.failed(event, err);
      }
    }
    return pending === null ? SETTLED : Promise.all(pending).then(() => undefined);
  }

  private failed(event: RunEventName, err: unknown): void {
    this.log(`a listener of the ${event} event failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
