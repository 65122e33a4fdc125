// The CLI's side of run control: register the run with the sink, follow it, finish it.
import type { HistoryEntry, K6SummaryFigures, RegistrationReply, RegistrationRequest, RunJson, RunSeriesJson } from '../contract/sink-api.ts';

export class SinkClient {
  constructor(
    readonly url: string,
    private readonly token: string | undefined,
  ) {}

  private headers(json: boolean): Record<string, string> {
    return { ...(json ? { 'Content-Type': 'application/json' } : {}), ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) };
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: this.headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`the sink at ${this.url} answered ${method} ${path} with ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  register(body: RegistrationRequest): Promise<Partial<RegistrationReply>> {
    return this.call('POST', '/api/runs', body);
  }

  run(testid: string): Promise<RunJson> {
    return this.call('GET', `/api/runs/${encodeURIComponent(testid)}`);
  }

  stop(testid: string) {
    return this.call('POST', `/api/runs/${encodeURIComponent(testid)}/stop`);
  }

  series(testid: string): Promise<RunSeriesJson> {
    return this.call('GET', `/api/runs/${encodeURIComponent(testid)}/series`);
  }

  /** Ends the run; the sink answers with its history entry. */
  finish(testid: string, exitCode: number | null, k6Summary?: K6SummaryFigures): Promise<HistoryEntry> {
    return this.call('POST', `/api/runs/${encodeURIComponent(testid)}/finish`, { exitCode, ...(k6Summary ? { k6Summary } : {}) });
  }
}

const num = (n: number | null, digits: number) => (n === null ? '–' : n.toFixed(digits));

/** One line per push: elapsed time, VUs, RPS, p95, error % and the grade of the live window. */
export function liveLine(run: RunJson, elapsedMs: number): string {
  const f = run.live;
  const elapsed = `${Math.floor(elapsedMs / 60_000)}m${String(Math.floor(elapsedMs / 1000) % 60).padStart(2, '0')}s`;
  // A grade withheld because the test is broken says why (report/sentences.ts's words).
  const why = f.grade.letter === 'N/A' && run.verdict?.kind === 'test_broken' && f.grade.reason ? ` (${f.grade.reason.split(':')[0]})` : '';
  return `[live ${elapsed}] VUs ${f.vus}  RPS ${num(f.rps, 1)}  p95 ${num(f.p95Ms, 0)} ms  errors ${f.errorRatio === null ? '–' : (f.errorRatio * 100).toFixed(2)} %  grade ${f.grade.text}${why}`;
}
