// The marketing view's panels, in plain words: the grade, users, response time, errors
// and the promo's impact against a baseline run.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { Section } from '../shared/layout.ts';
import { gaugePanel, prom, statPanel, timeseriesPanel, type Threshold } from '../shared/panels.ts';
import { eq, nativeQuantile, re, run, selector, sumRate, type Matcher } from '../shared/promql.ts';

/** The grade's letters, as lib/grade.ts defines them: lowest score of each, and its colour. */
export const GRADE_LETTERS = [
  { letter: 'A', min: 90, max: 100, color: 'green' },
  { letter: 'B', min: 80, max: 89.999, color: 'orange' },
  { letter: 'C', min: 70, max: 79.999, color: 'orange' },
  { letter: 'D', min: 50, max: 69.999, color: 'red' },
  { letter: 'F', min: 0, max: 49.999, color: 'red' },
] as const;

const GRADE_STEPS: Threshold[] = [
  { value: null, color: 'red' },
  { value: 70, color: 'orange' },
  { value: 90, color: 'green' },
];

const letterMappings: dashboard.ValueMapping[] = GRADE_LETTERS.map((g, index) => ({
  type: dashboard.MappingType.RangeToText,
  options: { from: g.min, to: g.max, result: { text: g.letter, color: g.color, index } },
}));

/** One run (the `testid` picker) for the live panels. */
const thisRun = [re('testid', '$testid')];
const reqs = (extra: Matcher[] = []) => `k6_http_reqs_total${selector([...thisRun, ...extra])}`;
const duration = (suffix: string) => `k6_http_req_duration_${suffix}${selector(thisRun)}`;

const RESPONSE_TIME_TARGET_S = 2;

export function marketingSections(): Section[] {
  return [
    {
      panels: [
        gaugePanel({
          title: 'Grade',
          description: 'How well the shop holds up right now, from A (great) to F (failing), judged on speed and errors over the last 30 seconds.',
          targets: [prom(`max(${run('promo_grade_score', 'testid', 'live')})`, 'grade', { instant: true })],
          min: 0,
          max: 100,
          w: 5,
          h: 8,
          steps: GRADE_STEPS,
          mappings: letterMappings,
        }),
        statPanel({
          title: 'Score',
          description: 'The score behind the grade, out of 100: 90 and up is A, 80 B, 70 C, 50 D, below 50 F.',
          targets: [prom(`max(${run('promo_grade_score', 'testid', 'live')})`, 'score')],
          unit: 'none',
          decimals: 0,
          min: 0,
          max: 100,
          w: 4,
          h: 8,
          steps: GRADE_STEPS,
          sparkline: true,
        }),
        timeseriesPanel({
          title: 'Simultaneous users',
          description: 'Shoppers simulated at the same time. The red dashed line is the most users the shop handled before slowing down or failing (breaking point), when a test found one.',
          targets: [prom(`max(${run('promo_vus', 'testid', 'live')})`, 'Users'), prom(`max(promo_breaking_point_vus${selector(thisRun)})`, 'Breaking point')],
          unit: 'none',
          min: 0,
          w: 15,
          h: 8,
          limitSeries: ['Breaking point'],
        }),
      ],
    },
    {
      row: 'Capacity: will it hold the promo?',
      panels: [
        statPanel({
          title: 'Capacity forecast',
          description:
            'The most requests per second the shop can serve, forecast from a ramp (the peak), and the range it lies in with 95 % confidence (low to high). A ramp that never pushed the shop to its limit shows only "low": the shop served at least that much.',
          targets: [prom(`max by (bound) (promo_capacity_forecast_rps${selector(thisRun)})`, '{{bound}}')],
          unit: 'reqps',
          decimals: 1,
          min: 0,
          w: 24,
          h: 5,
        }),
      ],
    },
    {
      row: 'Speed and errors',
      panels: [
        timeseriesPanel({
          title: 'Response time',
          description: 'How long pages take to answer: half of the visitors wait less than the "typical" line, 95 in 100 less than "slow visitors", 99 in 100 less than "slowest visitors". Above the dashed 2 s line shoppers start to leave.',
          targets: (['p50', 'p95', 'p99'] as const).map((p, i) =>
            prom(`${nativeQuantile(Number(p.slice(1)) / 100, duration('seconds'))} or max(${duration(p)})`, ['Typical (p50)', 'Slow visitors (p95)', 'Slowest visitors (p99)'][i]),
          ),
          unit: 's',
          min: 0,
          w: 12,
          h: 9,
          thresholdLines: [
            { value: null, color: 'green' },
            { value: RESPONSE_TIME_TARGET_S, color: 'red' },
          ],
        }),
        timeseriesPanel({
          title: 'Errors',
          description: 'Share of page requests that went wrong: refused by the shop (4xx, e.g. not found or bad promo code), the shop failing (5xx), or no answer at all.',
          targets: [
            prom(`${sumRate(reqs([re('status', '4..')]))} / ${sumRate(reqs())}`, 'Refused (4xx)'),
            prom(`${sumRate(reqs([re('status', '5..')]))} / ${sumRate(reqs())}`, 'Shop failing (5xx)'),
            prom(`${sumRate(reqs([eq('status', '0')]))} / ${sumRate(reqs())}`, 'No answer'),
          ],
          unit: 'percentunit',
          min: 0,
          w: 12,
          h: 9,
          thresholdLines: [
            { value: null, color: 'green' },
            { value: 0.05, color: 'red' },
          ],
        }),
      ],
    },
    {
      row: 'Promo impact: promo run against baseline run',
      panels: [
        statPanel({
          title: 'Baseline: slow visitors wait',
          description: 'Over the whole baseline run (no promo), 95 in 100 page requests answered within this time.',
          targets: [prom(`max(${run('promo_p95_ms', 'baseline', 'run')})`, 'baseline')],
          unit: 'ms',
          w: 6,
          h: 6,
        }),
        statPanel({
          title: 'Promo: slow visitors wait',
          description: 'The same figure for the promo run.',
          targets: [prom(`max(${run('promo_p95_ms', 'promo', 'run')})`, 'promo')],
          unit: 'ms',
          w: 6,
          h: 6,
        }),
        statPanel({
          title: 'Change in response time',
          description: 'How much slower (+) or faster (−) the promo run was than the baseline, in %.',
          targets: [prom(`(max(${run('promo_p95_ms', 'promo', 'run')}) - max(${run('promo_p95_ms', 'baseline', 'run')})) / max(${run('promo_p95_ms', 'baseline', 'run')}) * 100`, 'change')],
          unit: 'percent',
          decimals: 0,
          w: 6,
          h: 6,
          steps: [
            { value: null, color: 'green' },
            { value: 20, color: 'orange' },
            { value: 50, color: 'red' },
          ],
        }),
        statPanel({
          title: 'Change in errors',
          description: 'Errors in the promo run minus errors in the baseline run, in % of all requests (+1 % means one more failed request in every hundred).',
          targets: [prom(`(max(${run('promo_error_ratio', 'promo', 'run')}) - max(${run('promo_error_ratio', 'baseline', 'run')})) * 100`, 'change')],
          unit: 'percent',
          decimals: 2,
          w: 6,
          h: 6,
          steps: [
            { value: null, color: 'green' },
            { value: 1, color: 'orange' },
            { value: 5, color: 'red' },
          ],
        }),
      ],
    },
  ];
}
