// "Server side": the application under test seen from its own /metrics (the demo shop's
// prom-client metrics, scraped by Prometheus as job "demo"), next to the k6 view.
import { app, sumRate } from '../shared/promql.ts';
import { prom, timeseriesPanel } from '../shared/panels.ts';
import type { Section } from '../shared/layout.ts';

export function serverSideSection(): Section {
  return {
    row: 'Server side (application metrics)',
    panels: [
      timeseriesPanel({ title: 'Requests per second by route', description: "Requests the application answered per second, by route pattern (demo_http_requests_total).", targets: [prom(sumRate(app('demo_http_requests_total'), ['route']), '{{route}}')], unit: 'reqps', min: 0, w: 8 }),
      timeseriesPanel({
        title: 'Server p95 by route',
        description: 'p95 of the time from request received to response sent, by route (classic histogram demo_http_request_duration_seconds).',
        targets: [prom(`histogram_quantile(0.95, ${sumRate(app('demo_http_request_duration_seconds_bucket'), ['le', 'route'])})`, '{{route}}')],
        unit: 's',
        min: 0,
        w: 8,
      }),
      timeseriesPanel({
        title: 'In flight and queued',
        description: 'Requests being handled now, and requests waiting for an origin slot.',
        targets: [prom(`sum(${app('demo_http_in_flight_requests')})`, 'in flight'), prom(`sum(${app('demo_origin_queue_depth')})`, 'queued for origin')],
        unit: 'none',
        min: 0,
        w: 8,
      }),
      timeseriesPanel({
        title: 'Event-loop lag',
        description: "Node.js event-loop delay (prom-client's default metrics): high values mean the process is CPU-bound.",
        targets: [prom(`max(${app('nodejs_eventloop_lag_p99_seconds')})`, 'p99'), prom(`max(${app('nodejs_eventloop_lag_mean_seconds')})`, 'mean')],
        unit: 's',
        min: 0,
        w: 6,
      }),
      timeseriesPanel({ title: 'CPU', description: 'CPU time used per second (1 = one full core).', targets: [prom(sumRate(app('process_cpu_seconds_total'), ['instance']), '{{instance}}')], unit: 'percentunit', min: 0, w: 6 }),
      timeseriesPanel({ title: 'Memory (RSS)', description: 'Resident memory of the application process.', targets: [prom(`sum by (instance) (${app('process_resident_memory_bytes')})`, '{{instance}}')], unit: 'bytes', min: 0, w: 6 }),
      timeseriesPanel({ title: 'Page cache', description: 'Page requests by cache outcome: hit, miss, stale, or not_modified for a 304.', targets: [prom(sumRate(app('demo_cache_events_total'), ['result']), '{{result}}')], unit: 'reqps', min: 0, w: 6 }),
    ],
  };
}

