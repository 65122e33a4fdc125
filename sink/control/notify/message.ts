// What a notification says: one true sentence for the generic webhook's JSON, and the
// same facts as a Slack line, with links to the run's dashboard and status page.
import type { HistoryEntry } from '../../../contract/sink-api.ts';
import { formatGrade } from '../../../lib/grade.ts';
import { entryVerdict } from '../../../report/sentences.ts';
import type { RunAborted, RunView } from '../../model/run-events.ts';
import { PASSING_LETTERS, completionLevel, type LiveEvent } from './rules.ts';

export type Level = 'CRITICAL' | 'WARNING' | 'SUCCESS' | 'FAILURE';
export type NotificationEvent = LiveEvent | 'aborted' | 'completed';

/** The generic webhook's body, as is. */
export interface Notification {
  level: Level;
  event: NotificationEvent;
  testid: string;
  promoName: string | null;
  environment: string | null;
  target: string | null;
  /** formatGrade(): "A (97/100)" or "N/A". The live grade for error_ratio and p95, the run's otherwise. */
  grade: string;
  dashboard: string | null;
  statusPage: string | null;
  /** One human sentence. */
  message: string;
  /** ISO 8601. */
  at: string;
}

/** A notification, and its Slack incoming-webhook body. */
export interface Message {
  notification: Notification;
  slack: { text: string };
}

export const LEVEL_EMOJI: Record<Level, string> = {
  CRITICAL: ':red_circle:',
  WARNING: ':warning:',
  SUCCESS: ':white_check_mark:',
  FAILURE: ':x:',
};

export interface MessageOptions {
  errorRatioCritical: number;
  p95WarningMs: number;
  /** Length of the live window, for the words "over the last 30 s". */
  windowMs: number;
  /** Link to the run's dashboard, e.g. Grafana with var-testid. */
  dashboardUrl?: (testid: string) => string | undefined;
  statusPageUrl?: (testid: string) => string | undefined;
  log: (line: string) => void;
}

const pct = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;
const limitPct = (ratio: number) => `${Number((ratio * 100).toFixed(2))} %`;
const ms = (v: number) => `${Math.round(v)} ms`;

/** Host of a URL target ("https://shop.example.com/x" → "shop.example.com"), or the target as given. */
function targetHost(target: string): string {
  try {
    return new URL(target).host || target;
  } catch {
    return target;
  }
}

interface Subject {
  /** "Black Friday (prod, shop.example.com)", "scenario flash (prod)", "run abc". */
  label: string;
  /** The label at the start of a sentence. */
  start: string;
}

function subjectOf(testid: string, tags: Readonly<Record<string, string>>, target: string | null): Subject {
  const promo = tags.promo_name || null;
  const name = promo ?? (tags.scenario ? `scenario ${tags.scenario}` : `run ${testid}`);
  const details = [tags.environment, target ? targetHost(target) : undefined].filter((s): s is string => !!s);
  const label = details.length > 0 ? `${name} (${details.join(', ')})` : name;
  return { label, start: promo ? label : label[0]!.toUpperCase() + label.slice(1) };
}

/** Slack's control characters in text. */
const slackText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** A URL inside <url|label>: '&' as an entity, and nothing that would end the link early. */
const slackUrl = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E').replace(/\|/g, '%7C');

interface Draft {
  notification: Notification;
  /** The Slack line after "<emoji> LEVEL — ", with "{subject}" where the subject goes. */
  headline: string;
  /** Slack parts after the subject, before the testid. */
  after: string[];
}

/** The Slack text of a notification: ":red_circle: CRITICAL — errors 12.3 % over the last 30 s on Black Friday (prod, shop.example.com) — grade D (55/100) — testid `bf-1` — <url|Dashboard> · <url|Status page>". */
function slackMessage(d: Draft, subject: Subject): { text: string } {
  const n = d.notification;
  const parts = [`${LEVEL_EMOJI[n.level]} ${n.level}`, slackText(d.headline.replace('{subject}', subject.label)), ...d.after.map(slackText), `testid \`${slackText(n.testid)}\``];
  const links = [n.dashboard ? `<${slackUrl(n.dashboard)}|Dashboard>` : null, n.statusPage ? `<${slackUrl(n.statusPage)}|Status page>` : null].filter(Boolean);
  if (links.length > 0) parts.push(links.join(' · '));
  return { text: parts.join(' — ') };
}

export class MessageWriter {
  constructor(private readonly o: MessageOptions) {}

  /** CRITICAL for the error ratio, WARNING for the p95, from the run's live window. */
  live(run: RunView, target: string | null, event: LiveEvent, value: number): Message {
    const live = run.figures().live;
    const subject = subjectOf(run.testid, run.tags, target);
    const span = run.lastSampleAt - run.firstSampleAt;
    const seconds = Number.isFinite(span) && span < this.o.windowMs ? Math.max(1, Math.round(span / 1000)) : Math.round(this.o.windowMs / 1000);
    const over = `over the last ${seconds} s`;
    const g = formatGrade(live.grade);
    // A grade withheld says why in words (the test is broken: not the shop's failure).
    const why = live.grade.letter === 'N/A' && live.grade.reason ? live.grade.reason : null;
    const said = why ? ` ${why}` : '';
    const draft: Draft =
      event === 'error_ratio'
        ? {
            notification: this.notification('CRITICAL', event, run.testid, run.tags, target, g, `Errors reached ${pct(value)} ${over} on ${subject.label}, above the ${limitPct(this.o.errorRatioCritical)} limit; live grade ${g}, testid ${run.testid}.${said}`),
            headline: `errors ${pct(value)} ${over} on {subject}`,
            after: [`grade ${g}`, ...(why ? [why] : [])],
          }
        : {
            notification: this.notification('WARNING', event, run.testid, run.tags, target, g, `The p95 reached ${ms(value)} ${over} on ${subject.label}, above the ${ms(this.o.p95WarningMs)} limit; live grade ${g}, testid ${run.testid}.${said}`),
            headline: `p95 ${ms(value)} ${over} on {subject}`,
            after: [`grade ${g}`, ...(why ? [why] : [])],
          };
    return { notification: draft.notification, slack: slackMessage(draft, subject) };
  }

  /** WARNING: the run was aborted (thresholds with abortOnFail: exit 99; manual stop: 103). */
  aborted(info: RunAborted): Message {
    const subject = subjectOf(info.testid, info.tags, info.target);
    const draft: Draft = {
      notification: this.notification('WARNING', 'aborted', info.testid, info.tags, info.target, info.grade, `${subject.start} was aborted (${info.reason}) with grade ${info.grade}, testid ${info.testid}.${info.ending ? ` ${info.ending}` : ''}`),
      headline: `run aborted (${info.reason}) on {subject}`,
      after: [`grade ${info.grade}`, ...(info.ending ? [info.ending] : [])],
    };
    return { notification: draft.notification, slack: slackMessage(draft, subject) };
  }

  /** SUCCESS or FAILURE (completionLevel) of a finished run, with its grade and figures. */
  completed(entry: HistoryEntry): Message {
    const level = completionLevel(entry);
    const subject = subjectOf(entry.testid, entry.tags ?? {}, entry.target);
    const gradeText = entry.grade.text;
    const verdict = entryVerdict(entry);
    const why: string[] = [];
    if (entry.exitCode !== null && entry.exitCode !== 0) {
      why.push(entry.exitReason === `k6 exit ${entry.exitCode}` ? entry.exitReason : `${entry.exitReason}, k6 exit ${entry.exitCode}`);
    }
    if (verdict.kind === 'test_broken') why.push('the test is broken, not the shop');
    else if (entry.grade.letter === 'N/A') why.push('no grade');
    else if (!PASSING_LETTERS.has(entry.grade.letter)) why.push('grade below C');
    const outcome = level === 'SUCCESS' ? 'completed' : `failed (${why.join('; ')})`;
    const figures = [`p95 ${entry.p95Ms === null ? 'n/a' : ms(entry.p95Ms)}`, `errors ${entry.errorRatio === null ? 'n/a' : pct(entry.errorRatio)}`, `${entry.requests} requests`].join(', ');
    // The run's own words when it has more to say than its grade: why the test is broken, how it ended early.
    const sentences = [verdict.broken, verdict.ending].filter((x): x is string => x !== null);
    // Will it hold the promo (--expect-users, --expect-rps): the answer comes first.
    const expectation = verdict.expectation ? [verdict.expectation] : [];
    const draft: Draft = {
      notification: this.notification(level, 'completed', entry.testid, entry.tags ?? {}, entry.target, gradeText, [...expectation, `${subject.start} ${outcome} with Grade ${gradeText}: ${figures}, testid ${entry.testid}.`, ...sentences].join(' ')),
      headline: `${expectation.length > 0 ? `${expectation[0]} — ` : ''}run ${outcome} on {subject}`,
      after: [`Grade ${gradeText}`, figures, ...sentences],
    };
    return { notification: draft.notification, slack: slackMessage(draft, subject) };
  }

  private notification(level: Level, event: NotificationEvent, testid: string, tags: Readonly<Record<string, string>>, target: string | null, grade: string, message: string): Notification {
    return {
      level,
      event,
      testid,
      promoName: tags.promo_name || null,
      environment: tags.environment || null,
      target,
      grade,
      dashboard: this.link(this.o.dashboardUrl, testid),
      statusPage: this.link(this.o.statusPageUrl, testid),
      message,
      at: new Date().toISOString(),
    };
  }

  private link(make: ((testid: string) => string | undefined) | undefined, testid: string): string | null {
    if (!make) return null;
    try {
      return make(testid) || null;
    } catch (err) {
      this.o.log(`notify: could not build a link for run ${testid}: ${(err as Error).message}`);
      return null;
    }
  }
}
