// Run control: runs registered by the CLI (or started from the API), the emergency
// stop through k6's REST API (asked for, or on a breached threshold or the guard's trip:
// the run events), and the end of a run: its history entry, then the aborted and finished
// events.
import { thresholdValue } from '../../report/threshold-value.ts';
import type { SeriesStore } from './series-store.ts';
import type { RunRegistry } from '../grade/runs.ts';
import type { RunState } from '../grade/run-state.ts';
import { parseThresholds, type ThresholdResult } from '../grade/thresholds.ts';
import { MAX_THRESHOLDS_PER_RUN } from '../grade/run-state.ts';
import { SinkErrors } from '../errors.ts';
import type { RunEvents, RunView } from '../model/run-events.ts';
import { exitReason, type History } from './history.ts';
import { K6_STOP_BODY, type EndingJson, type ExpectRequest, type GuardTripJson, type HistoryEntry, type K6SummaryFigures, type RegistrationJson, type RegistrationRequest } from '../../contract/sink-api.ts';
import { expectationOf } from '../../report/forecast.ts';
import { formatGrade, grade, notApplicable } from '../../lib/grade.ts';
import { brokenSentence, guardRuleText, guardTripDetail, verdictOf } from '../../report/sentences.ts';
import { breakingPointAt } from '../grade/capacity.ts';
import { iso } from './runs-routes.ts';

export interface Registration {
  testid: string;
  scenario: string | null;
  tags: Record<string, string>;
  target: string | null;
  /**
   * host:port of each k6 REST API serving this testid (one per instance). Only addresses an
   * authenticated caller registered with a sink that has a token: the only ones it may stop.
   */
  k6Addresses: string[];
  registeredAt: number;
  stopRequestedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  abortOnFail: boolean;
  /** The thresholds (`metric threshold`) the registration asked the sink to abort the run on. */
  abortOn: string[];
  /** k6's own end-of-test figures, sent by the CLI of a single-instance run. */
  k6Summary: K6SummaryFigures | null;
  /** The merged threshold that failed with abortOnFail (the sink stopped every instance when it may). */
  abortedBy: ThresholdResult | null;
  /** The most VUs the run is to reach (its scenarios' peak), when the CLI said. */
  plannedVus: number | null;
  /** The run's VUs when the sink sent the stop (by hand or on a threshold): "stopped at 12 of 20 users". */
  stoppedAtVus: number | null;
  /**
   * Set when the sink's guard stopped the run: when it sent the stop (wall clock, ms), what
   * tripped it in words ("the shop's errors stayed above 5 % for 10 s (never under 12 %)"),
   * for "Stopped by the guard at N users, X s after the breaking point: …".
   */
  guardStop: { at: number; detail: string } | null;
  /** The expected peak (`--expect-users`, `--expect-rps`): the run says whether the shop will hold it. */
  expect?: ExpectRequest | null;
}

/** The history's exitReason of a run the guard stopped. */
export const GUARD_EXIT_REASON = 'guard';

/** Without a finish call, an ended run is written to the history after this long. */
const UNREGISTERED_GRACE_MS = 5_000;
const REGISTERED_GRACE_MS = 60_000;
/** k6 REST API addresses kept per testid (one per instance of a distributed run). */
export const MAX_K6_ADDRESSES = 1024;

export interface RunControlOptions {
  /**
   * Whether the sink stops runs at all: only with a token (--token). Without one it stops
   * nothing, whatever it is told: no stop, no merged-threshold abort, no k6 address kept.
   */
  stops: boolean;
  /** Registrations kept (--max-registrations); past it the least recently touched goes (counted). */
  maxRegistrations?: number;
}

/** What run control refused or forgot, read by the sink's metrics. */
export interface ControlCounters {
  evictedRegistrations: number;
  refusedK6Addresses: number;
}

export class RunControl {
  /** By testid, least recently registered or finished first (its eviction order). */
  readonly registrations = new Map<string, Registration>();
  readonly counters: ControlCounters = { evictedRegistrations: 0, refusedK6Addresses: 0 };
  /** Runs whose history entry is written (the run's state goes with it when grading forgets it). */
  private readonly written = new WeakSet<RunState>();
  /** History entries being written now: the periodic writer does not write them twice. */
  private readonly writing = new Set<string>();
  /** Finish calls whose history entry could not be written: written again every second until it is. */
  private readonly unwritten = new Map<string, Registration>();
  private readonly timer: NodeJS.Timeout;
  private readonly stops: boolean;
  private readonly maxRegistrations: number;

  constructor(
    private readonly runs: RunRegistry,
    private readonly history: History | null,
    /** It stops a run on thresholdBreached, and publishes aborted and finished. */
    private readonly events: RunEvents,
    private readonly log: (line: string) => void,
    /** Where finished runs' series are kept beside the history; none: not kept past the run. */
    private readonly seriesStore: SeriesStore | null = null,
    options: RunControlOptions = { stops: false },
  ) {
    this.stops = options.stops;
    this.maxRegistrations = options.maxRegistrations ?? 256;
    this.timer = setInterval(() => void this.writeEndedRuns(Date.now()), 1000);
    this.timer.unref();
    events.on('thresholdBreached', ({ run, threshold }) => this.abort(run, threshold));
    events.on('guardTripped', ({ run, trip }) => this.guard(run, trip));
  }

  /** Whether this sink stops runs at all (it has a token). */
  get sinkStops(): boolean {
    return this.stops;
  }

  close(): void {
    clearInterval(this.timer);
  }

  /**
   * Registers a k6 instance of a run. `authenticated`: the caller presented the sink's
   * token; only such a caller's k6 address is kept, and only by a sink that stops runs.
   */
  register(input: RegistrationRequest, authenticated = false): Registration {
    const existing = this.registrations.get(input.testid);
    const registration: Registration = existing ?? {
      testid: input.testid,
      scenario: input.scenario ?? null,
      tags: input.tags ?? {},
      target: input.target ?? null,
      k6Addresses: [],
      registeredAt: Date.now(),
      stopRequestedAt: null,
      finishedAt: null,
      exitCode: null,
      abortOnFail: input.abortOnFail ?? false,
      abortOn: [],
      k6Summary: null,
      // Aborted before any instance registered: the ones that register now stop too.
      abortedBy: this.runs.run(input.testid)?.abortedBy ?? null,
      plannedVus: null,
      stoppedAtVus: null,
      guardStop: null,
      expect: null,
    };
    const address = authenticated && this.stops && input.k6Address && !registration.k6Addresses.includes(input.k6Address) ? input.k6Address : null;
    if (address && registration.k6Addresses.length >= MAX_K6_ADDRESSES) {
      this.counters.refusedK6Addresses++;
      throw new SinkErrors.TOO_MANY_K6_ADDRESSES(JSON.stringify(input.testid), MAX_K6_ADDRESSES);
    }
    if (input.abortOnFail) registration.abortOnFail = true;
    if (input.expect !== undefined) {
      registration.expect = input.expect;
      this.runs.expectPeak(input.testid, input.expect);
    }
    if (input.plannedVus !== undefined) registration.plannedVus = input.plannedVus;
    // Each instance of a distributed run registers its own k6 address under the same testid.
    if (address) registration.k6Addresses.push(address);
    this.touch(registration);
    const run = this.runs.run(input.testid);
    if (run) this.written.delete(run);
    // Every instance sends the same options.thresholds; the run keeps one copy of each.
    if (input.thresholds) {
      const specs = parseThresholds(input.thresholds, registration.abortOnFail);
      for (const spec of specs) {
        const key = `${spec.metric} ${spec.threshold}`;
        if (spec.abortOnFail && registration.abortOn.length < MAX_THRESHOLDS_PER_RUN && !registration.abortOn.includes(key)) registration.abortOn.push(key);
      }
      this.runs.expectThresholds(input.testid, specs);
    }
    if (input.guard) this.runs.expectGuard(input.testid, input.guard.rules);
    // An instance that registers after the abort, or the guard's stop, is stopped as well.
    if (registration.abortedBy && address && this.whyNotStopped(registration, registration.abortedBy) === null) void this.stopAddresses(input.testid, [address]);
    if (registration.guardStop && address) void this.stopAddresses(input.testid, [address]);
    return registration;
  }

  /** Most recently touched last; past the bound the least recently touched goes. */
  private touch(registration: Registration): void {
    this.registrations.delete(registration.testid);
    this.registrations.set(registration.testid, registration);
    while (this.registrations.size > this.maxRegistrations) {
      const oldest = this.registrations.keys().next().value!;
      this.registrations.delete(oldest);
      this.unwritten.delete(oldest);
      this.counters.evictedRegistrations++;
    }
  }

  /**
   * Why the sink does not stop the run on this failed threshold, or null when it does: it
   * stops only with a token, and only on what the (authenticated) registration asked for.
   */
  private whyNotStopped(registration: Registration, threshold: ThresholdResult): string | null {
    if (!this.stops) return 'the sink has no token, so it stops no k6 instance';
    if (!registration.abortOnFail && !registration.abortOn.includes(`${threshold.metric} ${threshold.threshold}`)) {
      return 'its registration did not ask to abort on it, so no k6 instance is stopped';
    }
    return null;
  }

  /**
   * A rule of the run's guard held on the merged data: every registered instance stops,
   * gracefully, as on a merged threshold, and the run is recorded as stopped by the guard,
   * once the stop reached a k6. A sink without a token stops nothing, and a run with no
   * instance to stop is only logged: nothing stopped it.
   */
  async guard(run: RunView, trip: GuardTripJson): Promise<void> {
    const registration = this.registrations.get(run.testid);
    const detail = guardTripDetail(trip.rule, trip.lowest);
    if (!this.stops) {
      this.log(`run ${run.testid}: the guard tripped (${guardRuleText(trip.rule)}: ${detail}); the sink has no token, so it stops no k6 instance`);
      return;
    }
    if (!registration || registration.k6Addresses.length === 0) {
      this.log(`run ${run.testid}: the guard tripped (${guardRuleText(trip.rule)}: ${detail}); no k6 instance registered, so none to stop`);
      return;
    }
    if (registration.guardStop) return;
    const at = Date.now();
    const vus = this.runs.run(run.testid)?.currentVus() ?? null;
    this.log(`run ${run.testid}: the guard tripped (${guardRuleText(trip.rule)}: ${detail}); stopping its ${registration.k6Addresses.length} k6 instance(s)`);
    const { reached } = await this.stopAddresses(run.testid, registration.k6Addresses);
    if (reached.length === 0) return;
    registration.guardStop = { at, detail };
    registration.stoppedAtVus ??= vus;
    const state = this.runs.run(run.testid);
    if (state) state.guardStoppedAt = at;
  }

  /**
   * A threshold with abortOnFail failed on the merged data: every instance stops,
   * gracefully (k6 flushes its last push and summary), and the run is recorded as aborted.
   */
  async abort(run: RunView, threshold: ThresholdResult): Promise<void> {
    const registration = this.registrations.get(run.testid);
    // A run no CLI registered (plain `k6 run`, a TestRun) has no k6 address to stop: the
    // verdict stays on the run (run.abortedBy), and registering it here would date its
    // start to the abort and give it the registered runs' grace.
    if (!registration) {
      this.log(`run ${run.testid}: ${abortReason(threshold)}; no k6 instance registered, so none to stop`);
      return;
    }
    if (registration.abortedBy) return;
    registration.abortedBy = threshold;
    const refused = this.whyNotStopped(registration, threshold);
    if (refused) {
      this.log(`run ${run.testid}: ${abortReason(threshold)}; ${refused}`);
      return;
    }
    registration.stoppedAtVus ??= this.runs.run(run.testid)?.currentVus() ?? null;
    this.log(`run ${run.testid}: ${abortReason(threshold)}; stopping its ${registration.k6Addresses.length} k6 instance(s)`);
    if (registration.k6Addresses.length > 0) await this.stopAddresses(run.testid, registration.k6Addresses);
  }

  /** Asks every k6 instance of the run to stop; k6 then flushes, summarises and exits 103. A sink without a token stops nothing. */
  async stop(testid: string): Promise<{ reached: string[]; failed: Array<{ address: string; error: string }> }> {
    const registration = this.registrations.get(testid);
    if (!registration || !this.stops) return { reached: [], failed: [] };
    if (registration.stopRequestedAt === null) {
      registration.stopRequestedAt = Date.now();
      registration.stoppedAtVus ??= this.runs.run(testid)?.currentVus() ?? null;
    }
    return this.stopAddresses(testid, registration.k6Addresses);
  }

  private async stopAddresses(testid: string, addresses: string[]): Promise<{ reached: string[]; failed: Array<{ address: string; error: string }> }> {
    const results = await Promise.all(addresses.map((address) => stopK6(address)));
    const failed = results.filter((r): r is { address: string; error: string } => r.error !== undefined);
    for (const f of failed) this.log(`stopping run ${testid}: k6 at ${f.address} did not take the stop: ${f.error}`);
    return { reached: results.filter((r) => r.error === undefined).map((r) => r.address), failed };
  }

  /**
   * The CLI reports k6's exit code: the run is over, write it down. The registration is
   * marked finished only once its history entry is written; when the write fails the call
   * rejects, and the entry is written again every second until it is.
   */
  async finish(testid: string, exitCode: number | null, k6Summary: K6SummaryFigures | null = null): Promise<HistoryEntry> {
    const registration = this.registrations.get(testid) ?? this.register({ testid });
    const finished: Registration = { ...registration, finishedAt: Date.now(), exitCode, k6Summary };
    try {
      const entry = await this.write(testid, finished);
      this.unwritten.delete(testid);
      Object.assign(registration, { finishedAt: finished.finishedAt, exitCode, k6Summary });
      return entry;
    } catch (err) {
      if (!this.unwritten.has(testid)) this.log(`history: the end of run ${testid} could not be written (${(err as Error).message}); trying again every second`);
      this.unwritten.set(testid, finished);
      throw new SinkErrors.HISTORY_WRITE_FAILED(JSON.stringify(testid), (err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
  }

  /** Runs that ended on their stale markers without a finish call still reach the history; failed finishes are written again. */
  private async writeEndedRuns(now: number): Promise<void> {
    for (const [testid, finished] of this.unwritten) {
      if (this.writing.has(testid)) continue;
      try {
        await this.write(testid, finished);
        this.unwritten.delete(testid);
        const registration = this.registrations.get(testid);
        if (registration) Object.assign(registration, { finishedAt: finished.finishedAt, exitCode: finished.exitCode, k6Summary: finished.k6Summary });
        this.log(`history: the end of run ${testid} is written now`);
      } catch {
        // Logged once, when the finish call failed.
      }
    }
    for (const [testid, run] of this.runs.runs) {
      if (!run.ended || this.written.has(run) || this.writing.has(testid) || this.unwritten.has(testid)) continue;
      const registration = this.registrations.get(testid);
      if (registration?.finishedAt) continue;
      const grace = registration ? REGISTERED_GRACE_MS : UNREGISTERED_GRACE_MS;
      if (now - run.endedAt! < grace) continue;
      await this.write(testid, registration ?? null).catch((err) => this.log(`history: ${(err as Error).message}`));
    }
  }

  /** Appends the run's history entry; nothing is marked written, nor published, unless the append succeeded. */
  private async write(testid: string, registration: Registration | null): Promise<HistoryEntry> {
    this.writing.add(testid);
    try {
      const run = this.runs.run(testid);
      const entry = historyEntry(testid, run, registration);
      await this.history?.append(entry);
      if (run) {
        this.written.add(run);
        run.outcome = entry.exitReason;
        run.ending = entry.ending ?? null;
      }
      if (run && this.seriesStore) await this.seriesStore.put(run.seriesJson()).catch((err: Error) => this.log(`series of ${testid}: ${err.message}`));
      // 'aborted by thresholds' (k6's own), 'aborted by merged threshold …' (the sink's), a manual stop, or the guard's.
      if (entry.exitReason === 'stopped manually' || entry.exitReason === GUARD_EXIT_REASON || entry.exitReason.startsWith('aborted by')) {
        void this.events.emit('aborted', { testid, tags: entry.tags, target: entry.target, grade: entry.grade.text, reason: entry.exitReason, ending: entry.verdict?.ending ?? null });
      }
      void this.events.emit('finished', entry);
      return entry;
    } finally {
      this.writing.delete(testid);
    }
  }
}

/** The registration as the event stream and POST /api/runs show it: k6 addresses only to a caller with the token. */
export function registrationJson(registration: Registration, sinkStops: boolean, withAddresses: boolean): RegistrationJson {
  const { k6Addresses, abortOn: _abortOn, ...rest } = registration;
  return { ...rest, k6Instances: k6Addresses.length, sinkStops, ...(withAddresses ? { k6Addresses: [...k6Addresses] } : {}) };
}


/** "aborted by merged threshold http_req_duration p(95)<300: 651.2 over 68 requests" */
export function abortReason(t: ThresholdResult): string {
  return `aborted by merged threshold ${t.metric} ${t.threshold}: ${thresholdValue(t)} over ${t.requests} requests`;
}

/** The VUs at a wall-clock moment (sample time is k6's clock on the same machine): the last point's at or before it. */
function vusAt(run: RunState | undefined, at: number | null): number | null {
  if (!run || at === null) return null;
  let vus: number | null = null;
  for (const p of run.seriesPoints().points) {
    if (p.t > at) break;
    vus = p.vus;
  }
  return vus;
}

/** What k6's exit code says when it ended the run early by itself. */
function k6Abort(exitCode: number): string {
  return `k6 exited with ${exitCode} (${exitReason(exitCode, false)})`;
}

/**
 * How the run ended, for its sentence (report/sentences.ts endingSentence): by hand (a stop
 * asked of the sink, k6 then exits 103), by a threshold (the sink's merged one, or k6's own
 * with abortOnFail: exit 99), by the guard (issue 22), aborted (any other non-zero exit), or
 * run to its end (0, failed thresholds without abortOnFail, or stale markers alone).
 */
export function endingOf(run: RunState | undefined, registration: Registration | null): EndingJson {
  const exitCode = registration?.finishedAt ? registration.exitCode : null;
  const abortedBy = registration?.abortedBy ?? run?.abortedBy ?? null;
  const maxVus = run?.figures().run.vus ?? 0;
  const plannedVus = registration?.plannedVus ?? null;
  // The VUs when the sink sent the stop, else those of the last point before it, else the most the run reached.
  const at = (when: number | null) => registration?.stoppedAtVus ?? vusAt(run, when) ?? maxVus;
  if (registration?.guardStop) {
    const { at: stoppedAt, detail } = registration.guardStop;
    // The breaking point's time (sample time: k6's clock, on the machine the sink runs on under the CLI).
    const broke = run && run.capacity().breakingPointVus !== null ? breakingPointAt(run.seriesPoints().points) : null;
    const sinceBreakS = broke && broke.t <= stoppedAt ? Math.round((stoppedAt - broke.t) / 1000) : null;
    return { kind: 'guard', atVus: at(stoppedAt), plannedVus, detail, sinceBreakS };
  }
  if (abortedBy) return { kind: 'threshold', atVus: at(run?.abortedAt ?? null), plannedVus, detail: `${abortedBy.metric} ${abortedBy.threshold} failed at ${thresholdValue(abortedBy)} over ${abortedBy.requests} requests` };
  if (exitCode === 99 && registration?.abortOnFail) return { kind: 'threshold', atVus: maxVus, plannedVus, detail: 'k6 aborted the run on its thresholds' };
  // k6 stopped through its REST API (the sink's stop, or anyone's PATCH) exits 103.
  if (exitCode === 103) return { kind: 'stopped', atVus: at(registration?.stopRequestedAt ?? null), plannedVus, detail: null };
  if (exitCode !== null && exitCode !== 0 && exitCode !== 99) return { kind: 'aborted', atVus: maxVus, plannedVus, detail: k6Abort(exitCode) };
  return { kind: 'completed', atVus: maxVus, plannedVus, detail: null };
}

/**
 * The history entry of a run: one source for every figure. With native histograms the
 * sink's merge (k6's estimator, docs/sink.md) gives the headline percentiles, the thresholds
 * and the per-page figures alike, each within the documented bound of k6's own summary;
 * k6's summary (sent by the CLI of a single-instance run) stands when the sink has no
 * histogram of the run, and for the checks' rate, which k6 counts exactly. A run whose test
 * is broken has no grade (its sentence says why).
 */
export function historyEntry(testid: string, run: RunState | undefined, registration: Registration | null): HistoryEntry {
  const sinkFinal = run?.figures().run;
  const summary = registration?.k6Summary ?? null;
  const k6 = run?.hasHistogram ? null : summary;
  const final = k6
    ? { ...k6, vus: sinkFinal?.vus ?? 0, grade: k6.p95Ms === null ? grade({ p95Ms: NaN, errorRatio: 0 }) : grade({ p95Ms: k6.p95Ms, errorRatio: k6.errorRatio, requests: k6.requests }) }
    : // The checks' rate is the one figure k6 counts exactly and the sink only estimates (an equal-weight mean of the series' ratios).
      sinkFinal && { ...sinkFinal, checksRate: summary?.checksRate ?? sinkFinal.checksRate };
  const failures = run?.failures() ?? { requests: final?.requests ?? 0, failed: 0, testSide: 0, shopSide: 0, causes: [] };
  const broken = brokenSentence(failures);
  const g = broken !== null ? notApplicable(broken) : final?.grade;
  const exitCode = registration?.finishedAt ? registration.exitCode : null;
  const abortedBy = registration?.abortedBy ?? run?.abortedBy ?? null;
  const capacity = run?.capacity() ?? { breakingPointVus: null, throughputLimitRps: null, throughputLimitVus: null, maxVus: 0, peakOkRps: null, loadGrew: false, strained: false };
  const ending = endingOf(run, registration);
  const expect = registration?.expect ?? run?.expect ?? null;
  const expectation = expect ? expectationOf(capacity.forecast, expect) : null;
  const gradeJson = g ? { letter: g.letter, score: g.score, colour: g.colour, text: formatGrade(g) } : { letter: 'N/A' as const, score: null, colour: 'grey' as const, text: 'N/A' };
  return {
    testid,
    scenario: registration?.scenario ?? run?.tags.scenario ?? null,
    tags: { ...(run?.tags ?? {}), ...(registration?.tags ?? {}) },
    target: registration?.target ?? null,
    startedAt: iso(registration?.registeredAt ?? run?.firstSampleAt),
    endedAt: iso(registration?.finishedAt ?? run?.endedAt) ?? new Date().toISOString(),
    exitCode,
    exitReason: registration?.guardStop
      ? GUARD_EXIT_REASON
      : abortedBy
      ? abortReason(abortedBy)
      : registration?.stopRequestedAt && exitCode === 103
        ? 'stopped manually'
        : exitReason(exitCode, registration?.abortOnFail ?? false),
    requests: final?.requests ?? 0,
    p50Ms: final?.p50Ms ?? null,
    p95Ms: final?.p95Ms ?? null,
    p99Ms: final?.p99Ms ?? null,
    errorRatio: final?.errorRatio ?? null,
    rps: final?.rps ?? null,
    maxVus: final?.vus ?? 0,
    checksRate: final?.checksRate ?? null,
    iterations: final?.iterations ?? 0,
    grade: gradeJson,
    breakingPointVus: capacity.breakingPointVus,
    capacity,
    pages: run?.pages() ?? { pageTypes: [], slowestNames: [] },
    thresholds: run?.thresholdResults() ?? [],
    abortedBy,
    ...(run?.p95Interval() ?? { p95LowMs: null, p95HighMs: null }),
    failures,
    ending,
    verdict: verdictOf({ grade: gradeJson, requests: final?.requests ?? 0, failures, capacity, ending, finished: true, expectation }),
    ...(expectation ? { expectation } : {}),
  };
}

/** PATCHes k6's status; an instance still starting its REST API gets a few more tries. */
async function stopK6(address: string, attempts = 6): Promise<{ address: string; error?: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`http://${address}/v1/status`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(K6_STOP_BODY),
        signal: AbortSignal.timeout(5000),
      });
      await res.text();
      return res.ok ? { address } : { address, error: `k6 answered ${res.status}` };
    } catch (err) {
      if (attempt >= attempts) return { address, error: (err as Error).message };
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
