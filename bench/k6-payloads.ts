/**
 * k6-shaped Prometheus remote-write 1.0 bodies (what k6's
 * experimental-prometheus-rw output sends), for benches of the sink.
 *
 * Every request carries `seriesPerRequest` series taken as a sliding window
 * over a pool of distinct label sets, one sample each, like k6 re-sending
 * its active series on every flush. Bodies are protobuf-encoded with
 * protobufjs (independent of sink/decode.ts) and snappy-compressed.
 */
import { WriteRequest, type LabelObj, type TimeSeriesObj } from '../test/sink/fixtures/remote-write-proto.ts';
import { snappyCompress } from '../sink/remote-write/snappy.ts';

export interface K6PayloadOptions {
  /** Number of request bodies. Default 100. */
  requests?: number;
  /** Series per request. Default 1000. */
  seriesPerRequest?: number;
  /** Distinct label sets to draw from (sliding window). Default 2 × seriesPerRequest. */
  seriesPool?: number;
  /** Labels per series including __name__, 2..10. Default 10. */
  labelsPerSeries?: number;
  /** Timestamp of the first request (ms). Default 1_700_000_000_000. */
  startMs?: number;
  /** Milliseconds between requests. Default 5000. */
  intervalMs?: number;
}

export interface K6Payloads {
  /** Snappy-compressed WriteRequest bodies. */
  bodies: Buffer[];
  /** The same requests, uncompressed protobuf. */
  raw: Uint8Array[];
  /** Total samples over all bodies. */
  samples: number;
  seriesPerRequest: number;
  compressedBytes: number;
  rawBytes: number;
}

const METRICS = [
  'k6_http_reqs_total',
  'k6_http_req_duration_p95',
  'k6_http_req_duration_p99',
  'k6_http_req_duration_avg',
  'k6_http_req_waiting_p95',
  'k6_http_req_failed_rate',
  'k6_http_req_blocked_p95',
  'k6_data_received_total',
  'k6_checks_rate',
  'k6_iteration_duration_p95',
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const STATUSES = ['200', '201', '204', '301', '400', '404', '429', '500', '502', '503'];
const SCENARIOS = ['browse', 'checkout', 'promo_burst', 'search', 'login'];
const PAGES = ['/', '/promo/black-friday', '/cart', '/checkout', '/api/products', '/api/search', '/account', '/api/cart/items'];

/** The label set of pool entry `i` (sorted by name, as k6 sends them). */
export function k6SeriesLabels(i: number, labelsPerSeries = 10): LabelObj[] {
  const metric = METRICS[i % METRICS.length];
  const j = Math.floor(i / METRICS.length);
  const page = PAGES[j % PAGES.length];
  const status = STATUSES[Math.floor(j / PAGES.length) % STATUSES.length];
  const method = METHODS[Math.floor(j / 80) % METHODS.length];
  const scenario = SCENARIOS[Math.floor(j / 320) % SCENARIOS.length];
  const url = `https://shop.example.test${page}?variant=${Math.floor(j / 1600)}`;
  const all: LabelObj[] = [
    { name: '__name__', value: metric },
    { name: 'expected_response', value: status < '400' ? 'true' : 'false' },
    { name: 'group', value: `::${scenario}` },
    { name: 'method', value: method },
    { name: 'name', value: `https://shop.example.test${page}` },
    { name: 'proto', value: 'HTTP/1.1' },
    { name: 'scenario', value: scenario },
    { name: 'status', value: status },
    { name: 'testid', value: 'promo-2024-11-29-run-42' },
    { name: 'url', value: url },
  ];
  if (labelsPerSeries >= all.length) return all;
  // Keep __name__ and the last (labelsPerSeries - 1) labels: still sorted.
  return [all[0], ...all.slice(all.length - (labelsPerSeries - 1))];
}

/** Deterministic k6-like sample value for pool entry `i` in request `r`. */
function valueFor(i: number, r: number): number {
  const metric = METRICS[i % METRICS.length];
  if (metric.endsWith('_total')) return (i % 97) * 10 + r * ((i % 13) + 1);
  if (metric.endsWith('_rate')) return ((i * 7 + r * 3) % 100) / 100;
  return 12.5 + ((i * 31 + r * 17) % 4000) / 7;
}

export function makeK6WriteRequests(options: K6PayloadOptions = {}): K6Payloads {
  const requests = options.requests ?? 100;
  const perRequest = options.seriesPerRequest ?? 1000;
  const pool = Math.max(options.seriesPool ?? perRequest * 2, perRequest);
  const labelsPerSeries = options.labelsPerSeries ?? 10;
  const startMs = options.startMs ?? 1_700_000_000_000;
  const intervalMs = options.intervalMs ?? 5000;
  const labelSets: LabelObj[][] = [];
  for (let i = 0; i < pool; i++) labelSets.push(k6SeriesLabels(i, labelsPerSeries));
  const bodies: Buffer[] = [];
  const raw: Uint8Array[] = [];
  let compressedBytes = 0;
  let rawBytes = 0;
  // Each request slides the window by a quarter so series come and go.
  const step = Math.max(1, Math.floor(perRequest / 4));
  for (let r = 0; r < requests; r++) {
    const timeseries: TimeSeriesObj[] = [];
    const ts = startMs + r * intervalMs;
    for (let k = 0; k < perRequest; k++) {
      const i = (r * step + k) % pool;
      timeseries.push({ labels: labelSets[i], samples: [{ value: valueFor(i, r), timestamp: ts }] });
    }
    // Plain objects already have the right types: skip verify/fromObject for speed.
    const bytes = WriteRequest.encode(WriteRequest.create({ timeseries })).finish();
    const body = snappyCompress(bytes);
    raw.push(bytes);
    bodies.push(body);
    rawBytes += bytes.length;
    compressedBytes += body.length;
  }
  return { bodies, raw, samples: requests * perRequest, seriesPerRequest: perRequest, compressedBytes, rawBytes };
}
