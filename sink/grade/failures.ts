// Whose failure a failed request is: the test's (it could not reach the shop, or its journey
// asks for pages that are not there) or the shop's (5xx, 429, timeouts, dropped connections).
// k6 v2.2.0 puts `status` and `error_code` on every http_reqs and http_req_failed series it
// remote-writes, and `error` (its error text) on those without an answer:
//
//   connection refused     status 0, error_code 1212, error "dial: connection refused"
//   unknown host           status 0, error_code 1101, error "lookup: no such host"
//   not TLS / bad cert     status 0, error_code 1301…, error "tls: …"
//   request timeout        status 0, error_code 1050, error "request timeout"
//   closed mid-answer      status 0, error_code 1000, error "EOF"
//   an HTTP answer k6      status 404, error_code 1404 (1000 + the status, for 4xx and 5xx)
//   counts as failed
//
// (seen by running k6 against the sink; docs/capacity.md lists the classes). A group of
// request series (every label but the metric name) has one status and one error_code, so
// its class is worked out once, when the group is made. Plain functions over labels and the
// run's groups, for issue 22's capacity model too.
import type { FailureCause, FailureCauseJson, FailureSide, FailuresJson } from '../../contract/sink-api.ts';
import { label, type SeriesLabels } from '../model/labels.ts';

/** The test's side of the classes; the rest are the shop's. */
const TEST_SIDE: ReadonlySet<FailureCause> = new Set<FailureCause>(['refused', 'dns', 'tls', 'client_error']);

export function failureSide(cause: FailureCause): FailureSide {
  return TEST_SIDE.has(cause) ? 'test' : 'shop';
}

const int = (s: string | undefined): number | null => {
  if (s === undefined || !/^\d{1,6}$/.test(s)) return null;
  return Number(s);
};

/** The class of a failed request with this HTTP status (0: no answer) and k6 error code. */
export function failureCause(status: number, errorCode: number | null): FailureCause {
  if (errorCode !== null) {
    if (errorCode >= 1100 && errorCode < 1200) return 'dns';
    if (errorCode === 1212) return 'refused';
    if (errorCode >= 1300 && errorCode < 1400) return 'tls';
    if (errorCode === 1050 || errorCode === 1211) return 'timeout';
    if (errorCode === 1000 || errorCode === 1220) return 'dropped';
  }
  const http = status >= 100 ? status : errorCode !== null && errorCode >= 1400 && errorCode < 1600 ? errorCode - 1000 : 0;
  if (http === 429) return 'rate_limited';
  if (http === 408) return 'timeout';
  if (http >= 400 && http < 500) return 'client_error';
  if (http >= 500 && http < 600) return 'server_error';
  return 'other';
}

/** The class of a request series' failures, from its labels. */
export function failureCauseOf(labels: SeriesLabels): FailureCause {
  return failureCause(int(label(labels, 'status')) ?? 0, int(label(labels, 'error_code')));
}

/** scheme://host[:port] of a URL; null when it is not one. */
function originOf(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    const u = new URL(url);
    return u.origin === 'null' ? null : u.origin;
  } catch {
    return null;
  }
}

/** What failures() needs of a group of request series. */
export interface FailureGroup {
  readonly labels: SeriesLabels;
  readonly cause: FailureCause;
}

/** The largest causes a run keeps. */
export const MAX_CAUSES = 10;

/** What failures() reads of a group's labels, worked out once per label set (they never change). */
interface Described {
  readonly status: number;
  readonly errorCode: number | null;
  readonly error: string | null;
  readonly pageType: string | null;
  readonly url: string | null;
  readonly origin: string | null;
  /** The cause's key without the cause: status, page type and origin. */
  readonly key: string;
}

/**
 * Per label set: failures() runs on every second's point of a run whose test is broken, over
 * every group, and parsing each group's URL and looking up its labels again each time cost
 * sink-ingest 9 % of the main thread's CPU.
 */
const describedLabels = new WeakMap<SeriesLabels, Described>();

function describe(labels: SeriesLabels): Described {
  let d = describedLabels.get(labels);
  if (d === undefined) {
    const status = int(label(labels, 'status')) ?? 0;
    const pageType = label(labels, 'page_type') ?? null;
    const url = label(labels, 'name') ?? label(labels, 'url') ?? null;
    const origin = originOf(url ?? undefined);
    d = { status, errorCode: int(label(labels, 'error_code')), error: label(labels, 'error') ?? null, pageType, url, origin, key: `${status} ${pageType ?? ''} ${origin ?? ''}` };
    describedLabels.set(labels, d);
  }
  return d;
}

/**
 * The run's failed requests by cause, page type and origin, largest first. `requests` and
 * `failed` of a group are its totals so far.
 */
export function failures<G extends FailureGroup>(groups: Iterable<G>, requestsOf: (g: G) => number, failedOf: (g: G) => number): FailuresJson {
  const out: FailuresJson = { requests: 0, failed: 0, testSide: 0, shopSide: 0, causes: [] };
  const byPage = new Map<string, number>();
  const causes = new Map<string, FailureCauseJson>();
  for (const g of groups) {
    const requests = requestsOf(g);
    out.requests += requests;
    const d = describe(g.labels);
    byPage.set(d.pageType ?? '', (byPage.get(d.pageType ?? '') ?? 0) + requests);
    const failed = failedOf(g);
    // A ratio times a count: anything below half a request is a float's rest, not a failure.
    if (!(failed >= 0.5)) continue;
    const side = failureSide(g.cause);
    out.failed += failed;
    if (side === 'test') out.testSide += failed;
    else out.shopSide += failed;
    const key = `${g.cause} ${d.key}`;
    const known = causes.get(key);
    if (known) known.failed += failed;
    else
      causes.set(key, {
        cause: g.cause,
        side,
        status: d.status,
        errorCode: d.errorCode,
        error: d.error,
        pageType: d.pageType,
        origin: d.origin,
        url: d.url,
        failed,
        pageRequests: 0,
      });
  }
  for (const c of causes.values()) {
    c.failed = Math.round(c.failed);
    c.pageRequests = Math.round(c.pageType === null ? out.requests : (byPage.get(c.pageType) ?? 0));
  }
  out.causes = [...causes.values()].sort((a, b) => b.failed - a.failed || a.cause.localeCompare(b.cause)).slice(0, MAX_CAUSES);
  out.requests = Math.round(out.requests);
  out.failed = Math.round(out.failed);
  out.testSide = Math.round(out.testSide);
  out.shopSide = Math.round(out.shopSide);
  return out;
}
