import { afterEach, describe, expect, it, vi } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RemoteWriteDecoder } from '../../sink/remote-write/decode.ts';
import { RunRegistry } from '../../sink/grade/runs.ts';
import { DEFAULT_CONFIG } from '../../sink/config.ts';
import { historyEntry, RunControl, type Registration } from '../../sink/control/run-control.ts';
import type { RunState } from '../../sink/grade/run-state.ts';
import { Notifier, type NotifierOptions } from '../../sink/control/notify/notifier.ts';
import { completionLevel } from '../../sink/control/notify/rules.ts';
import type { Notification } from '../../sink/control/notify/message.ts';
import { RunEvents } from '../../sink/model/run-events.ts';
import { buildApp } from '../../sink/app.ts';
import { formatGrade } from '../../lib/grade.ts';
import { encodeV1, type TimeSeriesObj } from '../../fixtures/remote-write-proto.ts';

const T0 = Date.UTC(2026, 10, 27, 8, 0, 0);
const TAGS = { environment: 'prod', promo_type: 'flash_sale', promo_name: 'Black Friday', intensity: 'peak', scenario: 'checkout' };
const TARGET = 'https://shop.example.com';
const dashboardUrl = (testid: string) => `http://grafana.test/d/promo?var-testid=${testid}&from=now-1h`;
const statusPageUrl = (testid: string) => `http://127.0.0.1:9091/status/${testid}`;

// ---- A real local receiver -----------------------------------------------------

type Mode = 'ok' | 'fail' | 'hang' | 'gone';
interface Received {
  path: string;
  body: any;
}
interface Receiver {
  url: string;
  mode: Mode;
  /** Answer 500 to this many requests first. */
  failNext: number;
  hits: number;
  received: Received[];
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (data += chunk));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function receiver(mode: Mode = 'ok'): Promise<Receiver> {
  const r: Receiver = { url: '', mode, failNext: 0, hits: 0, received: [], close: async () => {} };
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      r.hits++;
      if (r.mode === 'hang') return; // headers never come
      if (r.mode === 'gone') return void res.writeHead(404).end('no_service');
      if (r.mode === 'fail' || r.failNext > 0) {
        r.failNext--;
        return void res.writeHead(500).end('down');
      }
      r.received.push({ path: req.url ?? '', body: JSON.parse(body) });
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  const port = await listen(server);
  r.url = `http://127.0.0.1:${port}`;
  let closed = false;
  r.close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(r.close);
  return r;
}

/** A port nothing listens on (connection refused). */
async function closedPort(): Promise<string> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/services/T000/B000/SECRET`;
}

function notifier(options: Partial<NotifierOptions> = {}) {
  const lines: string[] = [];
  const n = new Notifier({ errorRatioCritical: 0.05, p95WarningMs: 3000, dashboardUrl, statusPageUrl, log: (l) => lines.push(l), backoffBaseMs: 10, ...options });
  cleanups.push(() => n.drain(10_000));
  return { n, lines };
}

/** Both destinations on one healthy receiver: Slack at /slack, the generic webhook at /hook. */
async function healthy(options: Partial<NotifierOptions> = {}) {
  const rx = await receiver();
  const { n, lines } = notifier({ slackWebhookUrl: `${rx.url}/slack`, webhookUrl: `${rx.url}/hook`, ...options });
  const slack = () => rx.received.filter((r) => r.path === '/slack').map((r) => r.body as { text: string });
  const hook = () => rx.received.filter((r) => r.path === '/hook').map((r) => r.body as Notification);
  return { rx, n, lines, slack, hook };
}

// ---- Runs fed through the real ingest path --------------------------------------

function series(name: string, labels: Record<string, string>, samples: Array<[number, number]>): TimeSeriesObj {
  const all: Record<string, string> = { __name__: name, ...labels };
  return { labels: Object.keys(all).sort().map((k) => ({ name: k, value: all[k]! })), samples: samples.map(([timestamp, value]) => ({ timestamp, value })), histograms: [] };
}

/** One run; step() pushes the cumulative request and failure counts and the p95 trend stat at t seconds. */
function feed(testid: string, tags: Record<string, string> = TAGS, runs = new RunRegistry({ ...DEFAULT_CONFIG, windowMs: 30_000 })) {
  const decoder = new RemoteWriteDecoder();
  const push = (...ts: TimeSeriesObj[]) => runs.ingest(decoder.decode(encodeV1({ timeseries: ts }), 1));
  const labels = { ...tags, testid };
  return {
    registry: runs,
    run: (): RunState => runs.run(testid)!,
    step(tSec: number, requests: number, failed: number, p95Seconds: number | null) {
      const t = T0 + tSec * 1000;
      const ts = [series('k6_http_reqs_total', { ...labels, url: '/' }, [[t, requests]]), series('k6_http_req_failed_rate', { ...labels, url: '/' }, [[t, failed / requests]])];
      if (p95Seconds !== null) ts.push(series('k6_http_req_duration_p95', labels, [[t, p95Seconds]]));
      push(...ts);
    },
    vusOnly(tSec: number) {
      push(series('k6_vus', labels, [[T0 + tSec * 1000, 5]]));
    },
  };
}

const withoutAt = ({ at, ...rest }: Notification) => {
  expect(new Date(at).toISOString()).toBe(at);
  return rest;
};

// ---- Live conditions -------------------------------------------------------------

describe('live-window notifications', () => {
  it('fires one CRITICAL for 10 % errors however often it is evaluated, and a second one after it cleared and came back', async () => {
    const { n, slack, hook } = await healthy();
    const f = feed('bf-1');
    f.step(0, 1000, 0, 0.2);
    n.evaluate(f.run(), TARGET);
    f.step(40, 2000, 100, 0.2);
    // The run's ratio is 5 % (not over the limit); the live window's is 10 %.
    expect(f.run().figures().run.errorRatio).toBeCloseTo(0.05, 12);
    expect(f.run().figures().live.errorRatio).toBeCloseTo(0.1, 12);
    for (let i = 0; i < 50; i++) n.evaluate(f.run(), TARGET);
    f.step(45, 2100, 110, 0.2); // still 10 % over the window
    for (let i = 0; i < 50; i++) n.evaluate(f.run(), TARGET);
    await n.drain(5000);
    expect(hook()).toHaveLength(1);
    expect(slack()).toHaveLength(1);

    const grade = formatGrade(f.run().figures().live.grade);
    expect(grade).toBe('F (0/100)');
    expect(withoutAt(hook()[0]!)).toEqual({
      level: 'CRITICAL',
      event: 'error_ratio',
      testid: 'bf-1',
      promoName: 'Black Friday',
      environment: 'prod',
      target: TARGET,
      grade,
      dashboard: 'http://grafana.test/d/promo?var-testid=bf-1&from=now-1h',
      statusPage: 'http://127.0.0.1:9091/status/bf-1',
      message: 'Errors reached 10.0 % over the last 30 s on Black Friday (prod, shop.example.com), above the 5 % limit; live grade F (0/100), testid bf-1.',
    });
    expect(slack()[0]).toEqual({
      text:
        ':red_circle: CRITICAL — errors 10.0 % over the last 30 s on Black Friday (prod, shop.example.com) — grade F (0/100) — testid `bf-1` — ' +
        '<http://grafana.test/d/promo?var-testid=bf-1&amp;from=now-1h|Dashboard> · <http://127.0.0.1:9091/status/bf-1|Status page>',
    });

    // Clears: no failures in the last 30 s.
    f.step(80, 3000, 110, 0.2);
    expect(f.run().figures().live.errorRatio).toBe(0);
    for (let i = 0; i < 50; i++) n.evaluate(f.run(), TARGET);
    await n.drain(5000);
    expect(hook()).toHaveLength(1);

    // Comes back at 20 %: a second CRITICAL.
    f.step(120, 4000, 310, 0.2);
    expect(f.run().figures().live.errorRatio).toBeCloseTo(0.2, 12);
    for (let i = 0; i < 50; i++) n.evaluate(f.run(), TARGET);
    await n.drain(5000);
    expect(hook().map((h) => [h.level, h.event])).toEqual([
      ['CRITICAL', 'error_ratio'],
      ['CRITICAL', 'error_ratio'],
    ]);
    expect(hook()[1]!.message).toContain('Errors reached 20.0 % over the last 30 s');
    expect(slack()).toHaveLength(2);
    expect(n.stats).toMatchObject({ sent: 4, failed: 0, retried: 0, queued: 0, dropped: 0 });
  });

  it('fires one WARNING for a slow run (p95 4000 ms) and no CRITICAL', async () => {
    const { n, slack, hook } = await healthy();
    const f = feed('slow-1');
    for (let s = 0; s <= 50; s += 5) {
      f.step(s, 100 * (s + 1), 0, 4);
      for (let i = 0; i < 5; i++) n.evaluate(f.run(), TARGET);
    }
    await n.drain(5000);
    const grade = formatGrade(f.run().figures().live.grade);
    expect(grade).toBe('F (35/100)');
    expect(hook()).toHaveLength(1);
    expect(withoutAt(hook()[0]!)).toEqual({
      level: 'WARNING',
      event: 'p95',
      testid: 'slow-1',
      promoName: 'Black Friday',
      environment: 'prod',
      target: TARGET,
      grade,
      dashboard: 'http://grafana.test/d/promo?var-testid=slow-1&from=now-1h',
      statusPage: 'http://127.0.0.1:9091/status/slow-1',
      // The first batch was the whole run: its window was under a second long.
      message: 'The p95 reached 4000 ms over the last 1 s on Black Friday (prod, shop.example.com), above the 3000 ms limit; live grade F (35/100), testid slow-1.',
    });
    expect(slack()).toEqual([
      {
        text:
          ':warning: WARNING — p95 4000 ms over the last 1 s on Black Friday (prod, shop.example.com) — grade F (35/100) — testid `slow-1` — ' +
          '<http://grafana.test/d/promo?var-testid=slow-1&amp;from=now-1h|Dashboard> · <http://127.0.0.1:9091/status/slow-1|Status page>',
      },
    ]);
  });

  it('never fires on missing values (no requests, no p95) and does not clear on them either', async () => {
    const { n, hook } = await healthy();
    const idle = feed('idle-1');
    idle.vusOnly(0);
    expect(idle.run().figures().live.errorRatio).toBeNull();
    expect(idle.run().figures().live.p95Ms).toBeNull();
    n.evaluate(idle.run(), null);

    const noP95 = feed('nop95-1');
    noP95.step(0, 1000, 0, null);
    n.evaluate(noP95.run(), null);
    await n.drain(5000);
    expect(hook()).toEqual([]);
    expect(formatGrade(noP95.run().figures().live.grade)).toBe('N/A');
  });

  it('says which run it is when there is no promo name, and escapes Slack control characters', async () => {
    const { n, slack, hook } = await healthy({ dashboardUrl: undefined, statusPageUrl: undefined });
    const f = feed('x<1>', { environment: 'staging & co' });
    f.step(0, 100, 50, 0.1);
    n.evaluate(f.run(), null);
    await n.drain(5000);
    expect(hook()[0]).toMatchObject({ promoName: null, environment: 'staging & co', target: null, dashboard: null, statusPage: null });
    expect(hook()[0]!.message).toBe('Errors reached 50.0 % over the last 1 s on run x<1> (staging & co), above the 5 % limit; live grade F (0/100), testid x<1>.');
    expect(slack()[0]!.text).toBe(':red_circle: CRITICAL — errors 50.0 % over the last 1 s on run x&lt;1&gt; (staging &amp; co) — grade F (0/100) — testid `x&lt;1&gt;`');
  });

  it('never throws from evaluate, even on a broken run', async () => {
    const { n, lines } = await healthy();
    const broken = {
      testid: 'broken',
      figures() {
        throw new Error('boom');
      },
    } as unknown as RunState;
    expect(() => n.evaluate(broken, null)).not.toThrow();
    expect(lines).toEqual(['notify: could not evaluate run broken: boom']);
  });
});

// ---- Aborted and completed -------------------------------------------------------

function registration(testid: string, exitCode: number | null, extra: Partial<Registration> = {}): Registration {
  return {
    testid,
    scenario: 'checkout',
    tags: {},
    target: TARGET,
    k6Addresses: [],
    registeredAt: T0,
    stopRequestedAt: null,
    finishedAt: T0 + 60_000,
    exitCode,
    abortOnFail: true,
    abortOn: [],
    k6Summary: null,
    abortedBy: null,
    plannedVus: null,
    stoppedAtVus: null,
    guardStop: null,
    ...extra,
  };
}

describe('aborted and completed runs', () => {
  it('sends one WARNING with the reason when a run is aborted', async () => {
    const { n, slack, hook } = await healthy();
    const info = { tags: TAGS, target: TARGET, grade: 'D (55/100)', reason: 'aborted by thresholds' };
    n.aborted('bf-3', info);
    n.aborted('bf-3', info);
    await n.drain(5000);
    expect(hook()).toHaveLength(1);
    expect(withoutAt(hook()[0]!)).toEqual({
      level: 'WARNING',
      event: 'aborted',
      testid: 'bf-3',
      promoName: 'Black Friday',
      environment: 'prod',
      target: TARGET,
      grade: 'D (55/100)',
      dashboard: 'http://grafana.test/d/promo?var-testid=bf-3&from=now-1h',
      statusPage: 'http://127.0.0.1:9091/status/bf-3',
      message: 'Black Friday (prod, shop.example.com) was aborted (aborted by thresholds) with grade D (55/100), testid bf-3.',
    });
    expect(slack()).toEqual([
      {
        text:
          ':warning: WARNING — run aborted (aborted by thresholds) on Black Friday (prod, shop.example.com) — grade D (55/100) — testid `bf-3` — ' +
          '<http://grafana.test/d/promo?var-testid=bf-3&amp;from=now-1h|Dashboard> · <http://127.0.0.1:9091/status/bf-3|Status page>',
      },
    ]);
  });

  it('sends exactly one SUCCESS for a clean run graded A, with the grade text of formatGrade', async () => {
    const { n, slack, hook } = await healthy();
    const f = feed('bf-4');
    f.step(0, 1000, 0, 0.2);
    f.step(60, 12_345, 0, 0.42);
    const entry = historyEntry('bf-4', f.run(), registration('bf-4', 0));
    const grade = formatGrade(f.run().figures().run.grade);
    expect(grade).toBe('A (100/100)');
    expect(entry.grade.text).toBe(grade);
    n.completed(entry);
    n.completed(entry);
    n.evaluate(f.run(), TARGET); // over: nothing live any more
    await n.drain(5000);
    expect(hook()).toHaveLength(1);
    expect(withoutAt(hook()[0]!)).toEqual({
      level: 'SUCCESS',
      event: 'completed',
      testid: 'bf-4',
      promoName: 'Black Friday',
      environment: 'prod',
      target: TARGET,
      grade,
      dashboard: 'http://grafana.test/d/promo?var-testid=bf-4&from=now-1h',
      statusPage: 'http://127.0.0.1:9091/status/bf-4',
      message: 'Black Friday (prod, shop.example.com) completed with Grade A (100/100): p95 420 ms, errors 0.0 %, 12345 requests, testid bf-4.',
    });
    expect(slack()).toEqual([
      {
        text:
          ':white_check_mark: SUCCESS — run completed on Black Friday (prod, shop.example.com) — Grade A (100/100) — p95 420 ms, errors 0.0 %, 12345 requests — testid `bf-4` — ' +
          '<http://grafana.test/d/promo?var-testid=bf-4&amp;from=now-1h|Dashboard> · <http://127.0.0.1:9091/status/bf-4|Status page>',
      },
    ]);
  });

  it.each([
    // exit code, errors of 1000 requests, stop requested, level, words of the message
    { name: 'exit 0, grade A', exit: 0, failed: 0, stopped: false, level: 'SUCCESS', words: 'completed with Grade A (100/100)' },
    { name: 'no exit code (stale markers), grade A', exit: null, failed: 0, stopped: false, level: 'SUCCESS', words: 'completed with Grade A (100/100)' },
    { name: 'exit 0, grade D', exit: 0, failed: 20, stopped: false, level: 'FAILURE', words: 'failed (grade below C) with Grade D (62/100)' },
    { name: 'exit 99 with abortOnFail, grade A', exit: 99, failed: 0, stopped: false, level: 'FAILURE', words: 'failed (aborted by thresholds, k6 exit 99) with Grade A (100/100)' },
    { name: 'stopped manually (103), grade F', exit: 103, failed: 200, stopped: true, level: 'FAILURE', words: 'failed (stopped manually, k6 exit 103; grade below C) with Grade F (0/100)' },
    { name: 'exit 1, grade B', exit: 1, failed: 2, stopped: false, level: 'FAILURE', words: 'failed (k6 exit 1) with Grade B (87/100)' },
  ] as const)('completed: $name → $level', async ({ exit, failed, stopped, level, words }) => {
    const { n, hook, slack } = await healthy();
    const f = feed('run-x');
    f.step(0, 1000, failed, 0.2);
    const reg = exit === null ? null : registration('run-x', exit, stopped ? { stopRequestedAt: T0 + 30_000 } : {});
    const entry = historyEntry('run-x', f.run(), reg);
    expect(entry.exitCode).toBe(exit);
    expect(completionLevel(entry)).toBe(level);
    n.completed(entry);
    n.completed(entry);
    await n.drain(5000);
    expect(hook()).toHaveLength(1);
    expect(slack()).toHaveLength(1);
    const grade = formatGrade(f.run().figures().run.grade);
    expect(hook()[0]).toMatchObject({ level, event: 'completed', grade });
    expect(hook()[0]!.message).toContain(words);
    expect(hook()[0]!.message).toContain(`Grade ${grade}`);
    expect(slack()[0]!.text).toContain(`Grade ${grade}`);
    expect(slack()[0]!.text.startsWith(level === 'SUCCESS' ? ':white_check_mark: SUCCESS — ' : ':x: FAILURE — ')).toBe(true);
  });

  it('a run no CLI registered, aborted by a merged threshold, keeps its own start and says why, and an instance registering later is told', async () => {
    const f = feed('plain-1');
    f.step(0, 100, 0, 0.2);
    f.step(5, 200, 0, 0.9);
    const run = f.run();
    run.abortedBy = { metric: 'http_req_duration', threshold: 'p(95)<300', ok: false, value: 900, requests: 200, abortOnFail: true, supported: true };
    const lines: string[] = [];
    const control = new RunControl(f.registry, null, new RunEvents(), (line) => lines.push(line));
    try {
      await control.abort(run, run.abortedBy);
      expect(control.registrations.size).toBe(0);
      expect(lines).toEqual(['run plain-1: aborted by merged threshold http_req_duration p(95)<300: 900.0 ms over 200 requests; no k6 instance registered, so none to stop']);
      expect(control.register({ testid: 'plain-1' }).abortedBy).toBe(run.abortedBy);
    } finally {
      control.close();
    }
    const entry = historyEntry('plain-1', run, null);
    expect(entry).toMatchObject({
      startedAt: new Date(T0).toISOString(),
      exitReason: 'aborted by merged threshold http_req_duration p(95)<300: 900.0 ms over 200 requests',
      abortedBy: run.abortedBy,
    });
  });

  it('completed: a run without a grade (N/A) is a FAILURE', async () => {
    const { n, hook } = await healthy();
    const f = feed('na-1');
    f.vusOnly(0);
    const entry = historyEntry('na-1', f.run(), registration('na-1', 0));
    expect(entry.grade.text).toBe('N/A');
    n.completed(entry);
    await n.drain(5000);
    expect(hook()).toHaveLength(1);
    expect(hook()[0]).toMatchObject({ level: 'FAILURE', grade: 'N/A' });
    expect(hook()[0]!.message).toBe('Black Friday (prod, shop.example.com) failed (no grade) with Grade N/A: p95 n/a, errors n/a, 0 requests, testid na-1.');
  });
});

// ---- Dead webhooks ----------------------------------------------------------------

/** Two runs under one testid, one bad and one fine: alternating them makes the condition come and go. */
function flappingRuns(testid: string) {
  const bad = feed(testid);
  bad.step(0, 1000, 100, 0.2);
  const good = feed(testid);
  good.step(0, 1000, 0, 0.2);
  return [bad.run(), good.run()] as const;
}

describe('dead webhooks', () => {
  it('do not slow the callers: 10,000 evaluate calls against a closed port and a server that hangs', async () => {
    const hang = await receiver('hang');
    // Default request timeout (5 s): the callers must not feel it.
    const { n, lines } = notifier({ slackWebhookUrl: await closedPort(), webhookUrl: `${hang.url}/hook`, maxAttempts: 3, maxQueue: 20 });
    const [bad, good] = flappingRuns('dead-1');
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) n.evaluate(i % 2 === 0 ? bad : good, TARGET);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(1000);
    // 5,000 CRITICALs per destination, into queues of 20: the oldest are dropped.
    expect(n.stats.dropped).toBeGreaterThan(9000);
    expect(n.stats.queued).toBeLessThanOrEqual(2 * 21);
    expect(lines.filter((l) => l.includes('is full'))).toHaveLength(2);

    // The closed port fails fast and is retried, then given up.
    await vi.waitFor(() => expect(n.stats.failed).toBeGreaterThan(0), { timeout: 5000 });
    expect(n.stats.retried).toBeGreaterThan(0);
    expect(lines.some((l) => /^notify: gave up on the Slack webhook after 3 attempts for the CRITICAL error_ratio for run dead-1: ECONNREFUSED$/.test(l))).toBe(true);
    // The Slack webhook URL is a secret: never in the log.
    expect(lines.join('\n')).not.toContain('SECRET');

    // drain() honours its timeout while the hanging server holds a delivery.
    const drainStarted = performance.now();
    await n.drain(200);
    expect(performance.now() - drainStarted).toBeLessThan(1000);
    expect(n.stats.queued).toBeGreaterThan(0);
    expect(hang.hits).toBeGreaterThan(0);

    // Once the hanging server is gone, everything is accounted for.
    await hang.close();
    await n.drain(10_000);
    const s = n.stats;
    expect(s.queued).toBe(0);
    expect(s.sent).toBe(0);
    expect(s.sent + s.failed + s.dropped).toBe(10_000);
  });

  it('gives up on a server that never answers after the request timeout, with retries in stats', async () => {
    const hang = await receiver('hang');
    const { n, lines } = notifier({ webhookUrl: `${hang.url}/hook`, requestTimeoutMs: 150, maxAttempts: 3 });
    const started = performance.now();
    n.aborted('hang-1', { tags: TAGS, target: TARGET, grade: 'N/A', reason: 'stopped manually' });
    expect(performance.now() - started).toBeLessThan(50);
    await n.drain(10_000);
    expect(hang.hits).toBe(3);
    expect(n.stats).toEqual({ sent: 0, failed: 1, retried: 2, queued: 0, dropped: 0 });
    expect(lines).toEqual([`notify: gave up on the webhook at ${hang.url} after 3 attempts for the WARNING aborted for run hang-1: no answer within 150 ms`]);
  });

  it('retries a 500 until it passes', async () => {
    const { rx, n, hook } = await healthy();
    rx.failNext = 2;
    n.aborted('retry-1', { tags: TAGS, target: TARGET, grade: 'C (75/100)', reason: 'stopped manually' });
    await n.drain(10_000);
    // Slack got the first two 500s, the generic webhook went through at once (or the other way round).
    expect(hook()).toHaveLength(1);
    expect(n.stats).toEqual({ sent: 2, failed: 0, retried: 2, queued: 0, dropped: 0 });
  });

  it('does not retry a 404 (a webhook that is gone)', async () => {
    const gone = await receiver('gone');
    const { n, lines } = notifier({ webhookUrl: `${gone.url}/hook` });
    n.aborted('gone-1', { tags: TAGS, target: TARGET, grade: 'N/A', reason: 'stopped manually' });
    await n.drain(5000);
    expect(gone.hits).toBe(1);
    expect(n.stats).toEqual({ sent: 0, failed: 1, retried: 0, queued: 0, dropped: 0 });
    expect(lines).toEqual([`notify: the webhook at ${gone.url} refused the WARNING aborted for run gone-1: answered 404: no_service; not retrying`]);
  });

  it('a hanging Slack webhook does not hold up the generic one', async () => {
    const hang = await receiver('hang');
    const rx = await receiver();
    const { n } = notifier({ slackWebhookUrl: `${hang.url}/slack`, webhookUrl: `${rx.url}/hook` });
    const [bad, good] = flappingRuns('split-1');
    for (let i = 0; i < 6; i++) n.evaluate(i % 2 === 0 ? bad : good, TARGET);
    await vi.waitFor(() => expect(rx.received).toHaveLength(3), { timeout: 2000 });
    expect(hang.hits).toBe(1);
    await hang.close();
  });
});

// ---- Wiring ------------------------------------------------------------------------

describe('the notifier in the sink', () => {
  it('hears grading and run control through the run events alone: a live alert with the registered target, then the stop and the end', async () => {
    const rx = await receiver();
    const events = new RunEvents();
    const runs = new RunRegistry({ ...DEFAULT_CONFIG, windowMs: 30_000 }, () => {}, events);
    const control = new RunControl(runs, null, events, () => {}, null, { stops: true });
    cleanups.push(() => control.close());
    const n = new Notifier({ errorRatioCritical: 0.05, p95WarningMs: 3000, webhookUrl: `${rx.url}/hook`, log: () => {}, backoffBaseMs: 10 }, { events, targetOf: (testid) => control.registrations.get(testid)?.target ?? null });
    cleanups.push(() => n.drain(10_000));
    const testid = 'events_20261127_080000_0a1b2c3d';
    control.register({ testid, target: TARGET });
    const f = feed(testid, TAGS, runs);
    f.step(0, 100, 0, 0.2);
    f.step(5, 200, 40, 0.3);
    await control.stop(testid);
    await control.finish(testid, 103);
    await n.drain(5000);
    const received = rx.received.map((r) => r.body as Notification);
    expect(received.map((r) => [r.level, r.event, r.target])).toEqual([
      ['CRITICAL', 'error_ratio', TARGET],
      ['WARNING', 'aborted', TARGET],
      ['FAILURE', 'completed', TARGET],
    ]);
    expect(received[1]!.message).toContain('was aborted (stopped manually)');
  });

  it('counts what it sent, gave up and dropped in /metrics, by destination', async () => {
    const rx = await receiver();
    const app = buildApp({ config: { webhookUrl: `${rx.url}/hook`, slackWebhookUrl: await closedPort(), token: 'secret-token-0123456789' } });
    cleanups.push(() => app.close());
    await app.ready();
    const notifier = app.sink.notifier!;
    notifier.aborted('metrics-1', { tags: TAGS, target: TARGET, grade: 'N/A', reason: 'stopped manually' });
    await notifier.drain(20_000);
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const value = (metric: string, destination: string) => Number(text.match(new RegExp(`^${metric}\\{destination="${destination}"\\} (\\S+)$`, 'm'))?.[1]);
    expect(value('sink_notifications_sent_total', 'webhook')).toBe(1);
    expect(value('sink_notifications_sent_total', 'slack')).toBe(0);
    expect(value('sink_notifications_failed_total', 'slack')).toBe(1);
    expect(value('sink_notifications_retried_total', 'slack')).toBe(4);
    expect(value('sink_notifications_dropped_total', 'webhook')).toBe(0);
    expect(value('sink_notifications_queued', 'webhook')).toBe(0);
    // The Slack webhook URL is a secret: it is not in /metrics.
    expect(text).not.toContain('SECRET');
  });
});
