/// <reference lib="dom" />
// The status page's script, bundled by routes.ts with esbuild (iife, browser) when the
// sink starts. It reads the sink's own JSON API (same origin), follows one run live over
// Server-Sent Events, offers an emergency stop guarded by the sink's token, and shows the
// history with a baseline/candidate comparison (report/compare.ts, the CLI's own code).
//
// Everything from the sink goes into the page with textContent, never as HTML: tag
// values come from k6 labels, which anyone who can write to the sink chooses.
import { defaultComparison, overheadLine, tryCompare, verdict as changeVerdict } from '../../../report/compare.ts';
import type { FiguresJson as Figures, HistoryEntry, RegistrationJson, RunJson, SeriesPointJson } from '../../../contract/sink-api.ts';
import { createRunCharts, createTrendChart, type RunCharts, type TrendChart } from '../../../report/charts.ts';
import { trendOf } from '../../../report/trend.ts';
import { gradeText } from '../../../report/sentences.ts';
import { marketingDashboardUrl } from '../../../contract/links.ts';
import { judgedOnRequests, thresholdValue } from '../../../report/threshold-value.ts';
import { scenarioResults } from '../../../report/scenario-results.ts';
import { count } from '../../../report/words.ts';

/** What GET /api/runs/:testid/events sends: the run, or 'waiting' before its first sample. */
type RunEvent =
  | (RunJson & { registration: RegistrationJson | null; seriesDelta?: { stepMs: number; from: number; points: SeriesPointJson[] } })
  | { testid: string; status: 'waiting'; registration: RegistrationJson | null };
type Colour = 'green' | 'orange' | 'red' | 'grey';
type Shown = 'waiting' | 'running' | 'stopping' | 'stopped' | 'ended';

/** The sink's own check on a testid in a path (control-routes.ts). */
const TESTID = /^[A-Za-z0-9_.-]{1,128}$/;
const TOKEN_KEY = 'promo-load-analyzer.sink-token';
const HISTORY_REFRESH_MS = 15_000;
/** Nothing here sends cookies: the API uses a bearer token, never ambient credentials. */
const NO_COOKIES: RequestInit = { credentials: 'omit', cache: 'no-store' };

const el = <T extends HTMLElement = HTMLElement>(testid: string): T => {
  const found = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (!found) throw new Error(`The page has no element data-testid=${testid}.`);
  return found;
};

function show(node: HTMLElement, text: string | null): void {
  node.textContent = text ?? '';
  node.hidden = text === null || text === '';
}

// ---------------------------------------------------------------- the token

/** Where the token came from: the link the page was opened with, or typed into the dialog. */
type TokenFrom = 'link' | 'typed';

/** Kept for this tab only (sessionStorage); in memory when storage is unavailable. */
let memoryToken: { token: string; from: TokenFrom } | null = null;
/** The source of the last token the sink refused (401), for the dialog's hint. */
let refusedFrom: TokenFrom | null = null;

function stored(): { token: string; from: TokenFrom } | null {
  try {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token !== null) return { token, from: sessionStorage.getItem(`${TOKEN_KEY}.from`) === 'link' ? 'link' : 'typed' };
  } catch {
    // Storage switched off: see memoryToken.
  }
  return memoryToken;
}

function storedToken(): string | null {
  return stored()?.token ?? null;
}

function storeToken(token: string, from: TokenFrom): void {
  memoryToken = { token, from };
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(`${TOKEN_KEY}.from`, from);
  } catch {
    // Storage switched off: the token lives as long as the page.
  }
}

function forgetToken(): void {
  refusedFrom = stored()?.from ?? null;
  memoryToken = null;
  try {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(`${TOKEN_KEY}.from`);
  } catch {
    // Nothing stored.
  }
}

/**
 * The dialog's hint, true to how the page was opened: the command line's link for its own
 * sink carries the token after #token=, a standalone sink's link does not (whoever started
 * the sink chose its token), and a token already refused is not where to look again.
 */
function tokenHint(): string {
  const where = "the token the sink was started with (its --token, or SINK_TOKEN)";
  if (refusedFrom === 'link') return `The sink refused the token in the link this page was opened with. Type ${where}.`;
  if (refusedFrom === 'typed') return `The sink refused that token. Type ${where}.`;
  return `This page was opened without a token. Type ${where}; only the link \`npm run k6\` prints for its own embedded sink carries it, after #token=.`;
}

/**
 * The CLI prints `…/?testid=<id>#token=<token>`. A fragment never reaches the server;
 * the page keeps the token for this tab and takes it out of the address bar (and the
 * browser history entry) so it is not copied along with the link or seen on screen.
 */
function takeTokenFromFragment(): void {
  if (location.hash.length <= 1) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (token === null) return;
  if (token !== '') storeToken(token, 'link');
  params.delete('token');
  const rest = params.toString();
  history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
}

// ---------------------------------------------------------------- words and numbers

const STATUS_WORDS: Record<Shown, string> = {
  waiting: 'Waiting for the first figures',
  running: 'Running',
  stopping: 'Stopping…',
  stopped: 'Stopped',
  ended: 'Ended',
};

function isColour(x: string): x is Colour {
  return x === 'green' || x === 'orange' || x === 'red' || x === 'grey';
}

const fixed = (x: number | null | undefined, decimals: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(decimals) : '—');
const whole = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const percent = (ratio: number | null | undefined) => (typeof ratio === 'number' && Number.isFinite(ratio) ? (ratio * 100).toFixed(2) : '—');

function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function shownStatus(e: RunEvent): Shown {
  const reg = e.registration;
  // By hand, by anyone through k6's REST API (k6 exits 103), or by the guard.
  const stopAsked = reg?.stopRequestedAt != null || reg?.exitCode === 103 || reg?.guardStop != null || e.status === 'guard';
  const over = e.status === 'ended' || reg?.finishedAt != null;
  if (over) return stopAsked ? 'stopped' : 'ended';
  if (e.status === 'waiting') return 'waiting';
  return stopAsked ? 'stopping' : 'running';
}

// ---------------------------------------------------------------- the run

let testid = '';
let latest: RunEvent | null = null;
let lastShown: Shown | null = null;
let lastFinishedAt: number | null = null;

function setLight(colour: Colour, label: string): void {
  const light = el('light');
  light.dataset.colour = colour;
  light.setAttribute('aria-label', `Traffic light: ${label}`);
  for (const lamp of ['red', 'orange', 'green'] as const) el(`lamp-${lamp}`).classList.toggle('on', lamp === colour);
}

function renderRun(e: RunEvent): void {
  latest = e;
  const shown = shownStatus(e);
  const figures: Figures | null = e.status === 'waiting' ? null : shown === 'stopped' || shown === 'ended' ? e.final : e.live;
  const g: { letter: string; score: number | null; colour: string; reason?: string } = figures?.grade ?? { letter: 'N/A', score: null, colour: 'grey' };
  const colour: Colour = isColour(g.colour) ? g.colour : 'grey';
  setLight(colour, g.score === null ? 'no grade' : `${colour}, grade ${g.letter}`);
  el('grade-letter').textContent = g.letter;
  el('grade-score').textContent = g.score === null ? 'no grade yet' : `${g.score}/100`;
  // Will it hold the promo (--expect-users, --expect-rps): the answer comes first.
  show(el('expectation'), e.status === 'waiting' ? null : (e.verdict.expectation ?? null));
  const verdict = el('verdict');
  // The run's own sentence (report/sentences.ts): why the test is broken, how it ended early, or the grade in words.
  verdict.textContent = e.status === 'waiting' ? 'Waiting for the first figures…' : e.verdict.headline;
  verdict.className = `verdict ${colour}`;
  const reason = e.status !== 'waiting' && g.letter === 'N/A' ? (g.reason ?? e.naReason) : null;
  show(el('why'), reason && e.status !== 'waiting' && e.verdict.kind !== 'test_broken' ? `Why: ${reason.replace(/\.$/, '')}.` : null);

  const status = el('status');
  status.textContent = STATUS_WORDS[shown];
  status.dataset.status = shown;
  el('scope').textContent =
    shown === 'stopped' || shown === 'ended' ? 'Figures of the whole test.' : 'Figures of the last few seconds, updated every second.';
  el('vus').textContent = whole(figures?.vus);
  el('vus-hint').textContent = shown === 'stopped' || shown === 'ended' ? 'virtual shoppers (VUs) at the peak' : 'virtual shoppers (VUs) right now';
  el('p95').textContent = whole(figures?.p95Ms);
  el('errors').textContent = percent(figures?.errorRatio);

  const tags: Record<string, string> = { ...(e.registration?.tags ?? {}), ...(e.status !== 'waiting' ? e.tags : {}) };
  for (const name of ['promo_name', 'environment', 'promo_type', 'intensity']) {
    const value = tags[name];
    // Promo names are shown as given; the other tags are words joined by '_' (striked_price).
    el(`tag-${name}`).textContent = !value ? '—' : name === 'promo_name' ? value : value.replace(/_/g, ' ');
  }

  const canStop = shown === 'running' || shown === 'stopping' || shown === 'waiting';
  // The stream shows how many k6 instances the sink may stop, never where they listen.
  const sinkStops = e.registration?.sinkStops ?? true;
  const stoppable = sinkStops && (e.registration?.k6Instances ?? 0) > 0;
  el<HTMLButtonElement>('stop').disabled = !(canStop && stoppable);
  // While the test runs, the stop also sits in the header, which stays on screen.
  const live = canStop && stoppable && shown !== 'waiting';
  el('stop-now').hidden = !live;
  el<HTMLButtonElement>('stop-now').disabled = el<HTMLButtonElement>('stop').disabled;
  document.body.classList.toggle('live', live);
  const result = el('stop-result');
  if (!canStop && result.dataset.outcome === 'ok') {
    // The stop went through: one sentence says so, instead of "stopping…".
    stopResult('ok', shown === 'stopped' ? 'The load test was stopped. The figures above are those of the whole test.' : 'The load test is over.');
    result.dataset.outcome = 'done';
  }
  show(
    el('stop-note'),
    !canStop
      ? result.dataset.outcome === 'done'
        ? null
        : 'The test is over: there is nothing to stop.'
      : stoppable
        ? null
        : !sinkStops
          ? 'This sink runs without a token, so it stops no load test: stop it where it was started (Ctrl-C in the terminal that runs it).'
          : 'This test did not tell the sink where its load generator (k6) listens, so it cannot be stopped from here.',
  );
  renderDetails(e);
  renderCharts(e);
  el('stop-which').textContent = [tags.promo_name && tags.promo_name !== 'none' ? tags.promo_name : null, e.testid].filter(Boolean).join(' · ');
  document.title = `${g.letter} · ${STATUS_WORDS[shown]} · Load test status`;

  // A run that just ended, or whose exit code just arrived, lands in the history soon.
  const finishedAt = e.registration?.finishedAt ?? null;
  if ((lastShown !== null && lastShown !== shown) || finishedAt !== lastFinishedAt) void loadHistory();
  lastShown = shown;
  lastFinishedAt = finishedAt;
}


// ---------------------------------------------------------------- charts

/** The run's points as streamed: the events send what is new (seriesDelta). */
let seriesPoints: SeriesPointJson[] = [];
let runCharts: RunCharts | null = null;
let lastCapacity: RunJson['capacity'] | null = null;
/** A past run drawn beside this one (the overlay picker), or null. */
let overlayPoints: SeriesPointJson[] | null = null;

function drawCharts(): void {
  runCharts ??= createRunCharts(el('charts'), { baseline: overlayPoints !== null });
  runCharts.update(seriesPoints, lastCapacity, overlayPoints);
  // For tests and the curious: what each chart holds.
  (window as unknown as { promoCharts: RunCharts }).promoCharts = runCharts;
}

function renderCharts(e: RunEvent): void {
  if (e.status === 'waiting' || !e.seriesDelta) return;
  const delta = e.seriesDelta;
  seriesPoints = [...seriesPoints.slice(0, delta.from), ...delta.points];
  lastCapacity = e.capacity;
  el('charts-area').hidden = false;
  drawCharts();
}

/** The overlay picker changed: fetch that run's series and draw the charts again, with or without it. */
async function pickOverlay(): Promise<void> {
  const id = el<HTMLSelectElement>('overlay').value;
  let points: SeriesPointJson[] | null = null;
  if (id !== '' && TESTID.test(id)) {
    try {
      const res = await fetch(`/api/runs/${encodeURIComponent(id)}/series`, NO_COOKIES);
      points = res.ok ? ((await res.json()) as { points: SeriesPointJson[] }).points : [];
    } catch {
      points = [];
    }
  }
  if (el<HTMLSelectElement>('overlay').value !== id) return; // picked again meanwhile
  overlayPoints = points;
  el('charts').replaceChildren();
  runCharts = null;
  if (!el('charts-area').hidden) drawCharts();
}

/** The scenario of the run shown (its registration, else its labels). */
function currentScenario(): string | null {
  if (!latest) return null;
  return latest.registration?.scenario ?? (latest.status !== 'waiting' ? (latest.tags.scenario ?? null) : null);
}

/** Past runs of the same scenario, newest first, for the overlay picker. */
function fillOverlayPicker(): void {
  const select = el<HTMLSelectElement>('overlay');
  const scenario = currentScenario();
  const past = entries.filter((e) => e.testid !== testid && (scenario === null || e.scenario === scenario));
  const keep = select.value;
  select.replaceChildren(new Option('none', ''), ...past.map((e) => new Option(label(e), e.testid)));
  select.value = past.some((e) => e.testid === keep) ? keep : '';
  el('overlay-picker').hidden = past.length === 0;
}

// ---------------------------------------------------------------- the trend of past tests

let trendChart: TrendChart | null = null;

function renderTrend(): void {
  const scenario = currentScenario();
  // One scenario, promo type and promo name: the run shown's (report/trend.ts).
  const tags: Record<string, string> = latest ? { ...(latest.registration?.tags ?? {}), ...(latest.status !== 'waiting' ? latest.tags : {}) } : {};
  const trend = trendOf(entries, {
    ...(scenario !== null ? { scenario } : {}),
    ...(tags.promo_type ? { promoType: tags.promo_type } : {}),
    ...(tags.promo_name ? { promoName: tags.promo_name } : {}),
  });
  const area = el('trend-area');
  area.hidden = trend.runs.length < 2;
  if (area.hidden) return;
  el('trend-title').textContent = `Trend of ${trend.scope}: the last ${trend.runs.length} tests`;
  show(el('trend-summary'), trend.summary);
  const grades = el('trend-grades');
  grades.replaceChildren(
    'Grades, oldest first: ',
    ...trend.runs.flatMap((r) => {
      const dot = document.createElement('span');
      dot.className = `dot ${isColour(r.grade.colour) ? r.grade.colour : 'grey'}`;
      return [dot, `${r.grade.letter} `];
    }),
  );
  trendChart ??= createTrendChart(el('trend'));
  trendChart.update(trend.runs);
  (window as unknown as { promoTrend: { chart: TrendChart; runs: string[] } }).promoTrend = { chart: trendChart, runs: trend.runs.map((r) => r.testid) };
}

/** Capacity, the merged threshold verdicts and the per-page figures. */
function renderDetails(e: RunEvent): void {
  const details = el('details');
  if (e.status === 'waiting') {
    details.hidden = true;
    return;
  }
  details.hidden = false;
  el('capacity').textContent = e.verdict.capacity ?? '';
  show(el('forecast'), e.verdict.forecast ?? null);
  show(el('aborted'), e.abortedBy ? `Stopped early: the goal ${e.abortedBy.metric} ${e.abortedBy.threshold} failed at ${thresholdValue(e.abortedBy)} over ${count(e.abortedBy.requests, 'request')}.` : null);
  const list = el('thresholds');
  list.replaceChildren(
    ...e.thresholds.map((t) => {
      const item = document.createElement('li');
      const verdict = !t.supported ? 'not judged' : t.ok === null ? 'no data yet' : t.ok ? 'met' : 'missed';
      item.dataset.verdict = t.ok === null ? 'none' : t.ok ? 'ok' : 'failed';
      item.textContent = `${verdict}: ${t.metric} ${t.threshold} (${!t.supported ? (t.reason ?? '') : judgedOnRequests(t) ? `${thresholdValue(t)} over ${count(t.requests, 'request')}` : thresholdValue(t)})`;
      return item;
    }),
  );
  el('thresholds-empty').hidden = e.thresholds.length > 0;
  // The scenario's own results (cache hits, 304s, promos applied) in words, near the top.
  const results = scenarioResults(e.thresholds);
  el('scenario-results-area').hidden = results.length === 0;
  el('scenario-results').replaceChildren(
    ...results.map((r) => {
      const item = document.createElement('li');
      item.dataset.verdict = r.verdict;
      item.textContent = r.sentence;
      return item;
    }),
  );
  const body = el('pages').querySelector('tbody')!;
  const rows = [...e.pages.pageTypes.map((p) => ({ ...p, label: p.key })), ...e.pages.slowestNames.map((p) => ({ ...p, label: `URL ${p.key}` }))];
  body.replaceChildren(
    ...rows.map((p) => {
      const row = document.createElement('tr');
      for (const text of [p.label, whole(p.requests), fixed(p.rps, 1), whole(p.p50Ms), whole(p.p95Ms), whole(p.p99Ms), percent(p.errorRatio)]) cell(row, text);
      return row;
    }),
  );
}

function follow(id: string): void {
  testid = id;
  el('testid').textContent = id;
  el<HTMLAnchorElement>('download-report').href = `/api/runs/${encodeURIComponent(id)}/report`;
  const grafana = document.querySelector<HTMLMetaElement>('meta[name="grafana-url"]')?.content ?? '';
  if (/^https?:\/\//i.test(grafana)) {
    const link = el('dashboard');
    link.querySelector('a')!.href = marketingDashboardUrl(grafana, id);
    link.hidden = false;
  }
  const connection = el('connection');
  const source = new EventSource(`/api/runs/${encodeURIComponent(id)}/events`);
  source.onopen = () => show(connection, null);
  source.onmessage = (message: MessageEvent<string>) => {
    try {
      renderRun(JSON.parse(message.data) as RunEvent);
    } catch (err) {
      show(connection, `Could not read an update from the sink: ${(err as Error).message}`);
    }
  };
  source.onerror = () => {
    show(
      connection,
      source.readyState === EventSource.CLOSED
        ? 'The sink stopped sending updates: the figures shown may be out of date. Reload the page to try again.'
        : 'Lost contact with the sink, trying again…',
    );
  };
}

/** ?testid=…, or else the newest run the sink knows (a running one first). */
async function chooseRun(): Promise<void> {
  const fromUrl = new URLSearchParams(location.search).get('testid');
  if (fromUrl !== null) {
    if (!TESTID.test(fromUrl)) {
      show(el('notice'), 'This link does not name a valid test: ask for the link the command line printed.');
      return;
    }
    follow(fromUrl);
    return;
  }
  const notice = el('notice');
  for (;;) {
    try {
      const res = await fetch('/api/runs', NO_COOKIES);
      if (res.ok) {
        const { runs } = (await res.json()) as { runs: RunJson[] };
        const started = (r: RunJson) => Date.parse(r.firstSampleAt ?? '') || 0;
        const newest = [...runs].sort((a, b) => Number(b.status === 'running') - Number(a.status === 'running') || started(b) - started(a))[0];
        if (newest && TESTID.test(newest.testid)) {
          show(notice, null);
          history.replaceState(history.state, '', `${location.pathname}?testid=${encodeURIComponent(newest.testid)}${location.hash}`);
          follow(newest.testid);
          return;
        }
        show(notice, 'No load test has reported to this sink yet. This page shows the next one as soon as it starts.');
      } else show(notice, `The sink answered ${res.status}; trying again…`);
    } catch {
      show(notice, 'The sink does not answer; trying again…');
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

// ---------------------------------------------------------------- the emergency stop

function stopResult(kind: 'ok' | 'error', text: string): void {
  const node = el('stop-result');
  node.className = `stop-result ${kind}`;
  node.dataset.outcome = kind;
  show(node, text);
}

async function sendStop(token: string): Promise<void> {
  for (const id of ['stop', 'stop-now']) el<HTMLButtonElement>(id).disabled = true;
  stopResult('ok', 'Sending the stop…');
  let res: Response;
  try {
    // A custom header: a form, link or image on another site cannot send it, and the
    // sink answers no CORS preflight, so no other origin's script can either.
    res = await fetch(`/api/runs/${encodeURIComponent(testid)}/stop`, { ...NO_COOKIES, method: 'POST', headers: { Authorization: `Bearer ${token}` } });
  } catch {
    stopResult('error', 'The sink did not answer, so the test was NOT stopped. Check your connection and try again.');
    if (latest) renderRun(latest);
    return;
  }
  const body = (await res.json().catch(() => null)) as { reached?: string[]; failed?: Array<{ address: string; error: string }>; message?: string } | null;
  switch (res.status) {
    case 202: {
      const reached = body?.reached ?? [];
      const failed = body?.failed ?? [];
      if (reached.length > 0 && failed.length === 0) stopResult('ok', 'Stop sent: the load test is stopping.');
      else if (reached.length > 0) stopResult('error', `Stop sent, but ${failed.length} of ${reached.length + failed.length} load generators did not take it: ${failed.map((f) => f.error).join('; ')}`);
      else if (failed.length > 0) stopResult('error', `The load generator (k6) could not be reached, so the test goes on: ${failed.map((f) => f.error).join('; ')}`);
      else stopResult('error', 'The sink knows no load generator for this test, so nothing was stopped.');
      break;
    }
    case 401:
      forgetToken();
      stopResult('error', 'Wrong token: the load test was NOT stopped. Check the access code and try again.');
      break;
    case 403:
      stopResult('error', 'Stopping is switched off on this sink: it was started without a token (--token).');
      break;
    case 404:
      stopResult('error', 'The sink does not know this test, so it cannot stop it.');
      break;
    default:
      stopResult('error', `The test was NOT stopped: the sink answered ${res.status}${body?.message ? ` (${body.message})` : ''}.`);
  }
  if (latest) renderRun(latest);
}

function setUpStop(): void {
  const dialog = el<HTMLDialogElement>('stop-dialog');
  const tokenRow = el('token-row');
  const input = el<HTMLInputElement>('token-input');
  const error = el('dialog-error');

  const open = () => {
    input.value = '';
    show(error, null);
    tokenRow.hidden = storedToken() !== null;
    el('token-help').textContent = tokenHint();
    dialog.showModal();
    (tokenRow.hidden ? el('cancel-stop') : input).focus();
  };
  el('stop').addEventListener('click', open);
  el('stop-now').addEventListener('click', open);
  el('cancel-stop').addEventListener('click', () => dialog.close());
  const confirm = () => {
    const typed = input.value.trim();
    const token = tokenRow.hidden ? storedToken() : typed;
    if (!token) {
      show(error, 'Type the access code first.');
      input.focus();
      return;
    }
    // Header values are Latin-1; a token is printable ASCII (the sink wants ≥ 8 characters).
    if (!/^[\x21-\x7e]+$/.test(token)) {
      show(error, 'That access code holds characters a token never has: check it and try again.');
      input.focus();
      return;
    }
    if (!tokenRow.hidden) storeToken(token, 'typed');
    dialog.close();
    void sendStop(token);
  };
  el('confirm-stop').addEventListener('click', confirm);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      confirm();
    }
  });
}

// ---------------------------------------------------------------- history and comparison

let entries: HistoryEntry[] = [];

function cell(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function gradeCell(row: HTMLTableRowElement, e: HistoryEntry): void {
  const td = row.insertCell();
  const dot = document.createElement('span');
  const g = e.grade;
  dot.className = `dot ${isColour(g.colour) ? g.colour : 'grey'}`;
  // A broken test's N/A says why (report/sentences.ts), so it does not read as the shop's fault.
  td.append(dot, g.score === null ? gradeText(e) : `${g.letter} (${g.score}/100)`);
}

function label(e: HistoryEntry): string {
  const promo = e.tags?.promo_name && e.tags.promo_name !== 'none' ? ` (${e.tags.promo_name})` : '';
  return `${e.testid}${promo} · ${e.grade.letter}`;
}

/** Loads may overlap (a run ending, the timer): an older answer never replaces a newer one. */
let historyAsked = 0;
let historyShown = 0;

async function loadHistory(): Promise<void> {
  const asked = ++historyAsked;
  let list: HistoryEntry[];
  try {
    const res = await fetch('/api/history', NO_COOKIES);
    if (!res.ok) return;
    list = ((await res.json()) as { runs: HistoryEntry[] }).runs;
  } catch {
    return;
  }
  if (asked < historyShown) return;
  historyShown = asked;
  // Newest first, as the sink pages them.
  entries = list;
  const table = el<HTMLTableElement>('history');
  const body = table.tBodies[0]!;
  body.replaceChildren();
  for (const e of entries) {
    const row = body.insertRow();
    row.dataset.testid = 'history-row';
    row.dataset.run = e.testid;
    if (e.testid === testid) row.className = 'current';
    cell(row, e.testid);
    cell(row, when(e.endedAt));
    gradeCell(row, e);
    cell(row, e.p95Ms === null ? '—' : `${whole(e.p95Ms)} ms`, 'num');
    cell(row, e.errorRatio === null ? '—' : `${percent(e.errorRatio)} %`, 'num');
    cell(row, e.exitReason);
  }
  table.hidden = entries.length === 0;
  el('history-empty').hidden = entries.length > 0;
  fillPickers();
  fillOverlayPicker();
  renderTrend();
}

function fillPickers(): void {
  const compare = el('compare');
  compare.hidden = entries.length < 2;
  if (compare.hidden) return;
  const baseline = el<HTMLSelectElement>('baseline');
  const candidate = el<HTMLSelectElement>('candidate');
  const keep = [baseline.value, candidate.value];
  for (const select of [baseline, candidate]) select.replaceChildren(...entries.map((e) => new Option(label(e), entryKey(e))));
  // What the user picked stays picked when a new run arrives; at first, the default picks
  // (report/compare.ts, as GET /api/compare): the viewed run is the candidate, the baseline
  // the latest comparable run before it without a promo, else the previous comparable one.
  const picks = defaultComparison(entries, testid || null);
  const pick = (select: HTMLSelectElement, previous: string | undefined, fallback: HistoryEntry | null) => {
    select.value = previous && entries.some((e) => entryKey(e) === previous) ? previous : fallback ? entryKey(fallback) : '';
  };
  pick(candidate, keep[1], picks.candidate);
  pick(baseline, keep[0], picks.baseline);
  renderComparison(picks.baseline === null ? picks.reason : null);
}

/** A history may hold the same testid twice (a run finished again): the end time tells them apart. */
const entryKey = (e: HistoryEntry) => `${e.testid}@${e.endedAt}`;
const entryFor = (key: string) => entries.find((e) => entryKey(e) === key);

/** A comparison row's metric in words: "p95 cart (ms)" → "Response time, p95, cart (ms)". */
function metricWords(metric: string): string {
  const page = /^(p95|errors) (.+) \((ms|%)\)$/.exec(metric);
  if (page) return `${page[1] === 'p95' ? 'Response time, p95' : 'Errors'}, ${page[2]} (${page[3]})`;
  return { 'journeys/s': 'Journeys per second', 'requests/journey': 'Requests per journey', score: 'Score (out of 100)' }[metric] ?? metric;
}

function signed(x: number, decimals: number): string {
  const s = x.toFixed(decimals);
  if (Number(s) === 0) return (0).toFixed(decimals);
  return x > 0 ? `+${s}` : s;
}

/** The comparison of the picked runs, or why there is none (`reason`: the default picks found no baseline). */
function renderComparison(reason: string | null = null): void {
  const b = entryFor(el<HTMLSelectElement>('baseline').value);
  const c = entryFor(el<HTMLSelectElement>('candidate').value);
  const body = el<HTMLTableElement>('comparison').tBodies[0]!;
  body.replaceChildren();
  const sentences = (lines: string[]) =>
    el('impact-sentences').replaceChildren(
      ...lines.map((sentence) => {
        const item = document.createElement('li');
        item.textContent = sentence;
        return item;
      }),
    );
  const result = b && c ? tryCompare(b, c) : null;
  if (!result || result.refused !== null) {
    // Only like with like: the page says why these runs are not compared.
    el('overhead').textContent = '';
    sentences([result?.refused ?? reason ?? 'Pick two runs to compare.']);
    el('compare').dataset.refused = 'true';
    return;
  }
  delete el('compare').dataset.refused;
  const comparison = result.comparison;
  for (const row of comparison.rows) {
    const tr = body.insertRow();
    tr.dataset.metric = row.metric;
    const judged = changeVerdict(row);
    const cls = judged === 'green' ? 'num better' : judged === 'red' ? 'num worse' : 'num';
    cell(tr, metricWords(row.metric));
    cell(tr, fixed(row.baseline, row.decimals), 'num');
    cell(tr, fixed(row.candidate, row.decimals), 'num');
    cell(tr, row.delta === null ? 'n/a' : signed(row.delta, row.decimals), cls);
    cell(tr, row.measurable === false ? 'no measurable change' : row.deltaPct === null ? 'n/a' : `${signed(row.deltaPct, 1)} %`, cls);
  }
  el('overhead').textContent = overheadLine(comparison);
  // The same words as the report's promo impact, before the figures.
  sentences(comparison.sentences);
}

// ---------------------------------------------------------------- start

function start(): void {
  takeTokenFromFragment();
  setUpStop();
  el('baseline').addEventListener('change', () => renderComparison());
  el('candidate').addEventListener('change', () => renderComparison());
  el('overlay').addEventListener('change', () => void pickOverlay());
  void loadHistory();
  setInterval(() => void loadHistory(), HISTORY_REFRESH_MS);
  void chooseRun();
}

start();
