// Run control: runs registered by the CLI (or started from the API), the emergency
// stop through k6's REST API, and the end of a run: history entry and notification.
import type { RunRegistry } from '../grade/runs.ts';
import type { RunState } from '../grade/run-state.ts';
import { exitReason, type History } from './history.ts';
import { K6_STOP_BODY, type HistoryEntry, type K6SummaryFigures, type RegistrationRequest } from '../../contract/sink-api.ts';
import { formatGrade, grade } from '../../lib/grade.ts';
import { iso } from './runs-routes.ts';

export interface Registration {
  testid: string;
  scenario: string | null;
  tags: Record<string, string>;
  target: string | null;
  /** host:port of each k6 REST API serving this testid (one per instance). */
  k6Addresses: string[];
  registeredAt: number;
  stopRequestedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  abortOnFail: boolean;
  /** k6's own end-of-test figures, sent by the CLI of a single-instance run. */
  k6Summary: K6SummaryFigures | null;
}

export interface RunEvents {
  /** The run ended (finish call or stale markers): its history entry is written. */
  finished?: (entry: HistoryEntry, run: RunState | undefined) => void;
  /** A stop was requested. */
  stopRequested?: (registration: Registration) => void;
}

/** Without a finish call, an ended run is written to the history after this long. */
const UNREGISTERED_GRACE_MS = 5_000;
const REGISTERED_GRACE_MS = 60_000;

export class RunControl {
  readonly registrations = new Map<string, Registration>();
  private readonly written = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly runs: RunRegistry,
    private readonly history: History | null,
    private readonly events: RunEvents,
    private readonly log: (line: string) => void,
  ) {
    this.timer = setInterval(() => void this.writeEndedRuns(Date.now()), 1000);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  register(input: RegistrationRequest): Registration {
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
      k6Summary: null,
    };
    // Each instance of a distributed run registers its own k6 address under the same testid.
    if (input.k6Address && !registration.k6Addresses.includes(input.k6Address)) registration.k6Addresses.push(input.k6Address);
    this.registrations.set(input.testid, registration);
    this.written.delete(input.testid);
    return registration;
  }

  /** Asks every k6 instance of the run to stop; k6 then flushes, summarises and exits 103. */
  async stop(testid: string): Promise<{ reached: string[]; failed: Array<{ address: string; error: string }> }> {
    const registration = this.registrations.get(testid);
    if (!registration) return { reached: [], failed: [] };
    registration.stopRequestedAt ??= Date.now();
    this.events.stopRequested?.(registration);
    const results = await Promise.all(registration.k6Addresses.map((address) => stopK6(address)));
    const failed = results.filter((r): r is { address: string; error: string } => r.error !== undefined);
    for (const f of failed) this.log(`stopping run ${testid}: k6 at ${f.address} did not take the stop: ${f.error}`);
    return { reached: results.filter((r) => r.error === undefined).map((r) => r.address), failed };
  }

  /** The CLI reports k6's exit code: the run is over, write it down. */
  async finish(testid: string, exitCode: number | null, k6Summary: K6SummaryFigures | null = null): Promise<HistoryEntry> {
    const registration = this.registrations.get(testid) ?? this.register({ testid });
    registration.finishedAt = Date.now();
    registration.exitCode = exitCode;
    registration.k6Summary = k6Summary;
    return this.write(testid, registration);
  }

  /** Runs that ended on their stale markers without a finish call still reach the history. */
  private async writeEndedRuns(now: number): Promise<void> {
    for (const [testid, run] of this.runs.runs) {
      if (!run.ended || this.written.has(testid)) continue;
      const registration = this.registrations.get(testid);
      if (registration?.finishedAt) continue;
      const grace = registration ? REGISTERED_GRACE_MS : UNREGISTERED_GRACE_MS;
      if (now - run.endedAt! < grace) continue;
      await this.write(testid, registration ?? null).catch((err) => this.log(`history: ${(err as Error).message}`));
    }
  }

  private async write(testid: string, registration: Registration | null): Promise<HistoryEntry> {
    this.written.add(testid);
    const run = this.runs.run(testid);
    const entry = historyEntry(testid, run, registration);
    if (run) run.outcome = entry.exitReason;
    await this.history?.append(entry);
    this.events.finished?.(entry, run);
    return entry;
  }
}


/**
 * The history entry of a run. When the CLI sent k6's own summary, its figures and the
 * grade from them are the record, so the history, the notification and the CLI agree;
 * otherwise the sink's own figures are.
 */
export function historyEntry(testid: string, run: RunState | undefined, registration: Registration | null): HistoryEntry {
  const sinkFinal = run?.figures().run;
  const k6 = registration?.k6Summary ?? null;
  const final = k6
    ? { ...k6, vus: sinkFinal?.vus ?? 0, grade: k6.p95Ms === null ? grade({ p95Ms: NaN, errorRatio: 0 }) : grade({ p95Ms: k6.p95Ms, errorRatio: k6.errorRatio, requests: k6.requests }) }
    : sinkFinal;
  const g = final?.grade;
  const exitCode = registration?.finishedAt ? registration.exitCode : null;
  return {
    testid,
    scenario: registration?.scenario ?? run?.tags.scenario ?? null,
    tags: { ...(run?.tags ?? {}), ...(registration?.tags ?? {}) },
    target: registration?.target ?? null,
    startedAt: iso(registration?.registeredAt ?? run?.firstSampleAt),
    endedAt: iso(registration?.finishedAt ?? run?.endedAt) ?? new Date().toISOString(),
    exitCode,
    exitReason: registration?.stopRequestedAt && exitCode === 103 ? 'stopped manually' : exitReason(exitCode, registration?.abortOnFail ?? false),
    requests: final?.requests ?? 0,
    p50Ms: final?.p50Ms ?? null,
    p95Ms: final?.p95Ms ?? null,
    p99Ms: final?.p99Ms ?? null,
    errorRatio: final?.errorRatio ?? null,
    rps: final?.rps ?? null,
    maxVus: final?.vus ?? 0,
    checksRate: final?.checksRate ?? null,
    iterations: final?.iterations ?? 0,
    grade: g ? { letter: g.letter, score: g.score, colour: g.colour, text: formatGrade(g) } : { letter: 'N/A', score: null, colour: 'grey', text: 'N/A' },
    breakingPointVus: run?.breakingPointVus ?? null,
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
