// Start, stop, abort and guard marks on the marketing view, from the sink's promo_run_info
// (status label: running, ended, stopped (manually), aborted, or guard: the sink's guard
// stopped the run before it harmed the shop). Each mark is the moment a status first
// appears for a run: present now, absent a minute earlier.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import { PROMETHEUS_DATASOURCE } from '../shared/panels.ts';
import { re, selector } from '../shared/promql.ts';

export const RUN_STATUS_MARKS = [
  { name: 'Test started', status: 'running', color: 'green', title: 'Test started' },
  // A run that ran to its end and one stopped by hand both stop; the title says which.
  { name: 'Test stopped', status: 'ended|stopped', color: 'blue', title: 'Test stopped' },
  { name: 'Test aborted', status: 'aborted', color: 'red', title: 'Test aborted' },
  // The guard's stop: the shop's failures or latency stayed past the guard's limits (docs/capacity.md).
  { name: 'Stopped by the guard', status: 'guard', color: 'orange', title: 'Stopped by the guard' },
] as const;

/** Series that exist now but did not `lookback` ago: the first moments of a status (a regex). */
export function statusAppeared(status: string, lookback = '1m'): string {
  const info = `promo_run_info${selector([re('testid', '$testid'), re('status', status)])}`;
  return `max by (testid, promo_name, environment) (${info}) unless max by (testid, promo_name, environment) (${info} offset ${lookback})`;
}

export function runStatusAnnotations(): dashboard.AnnotationQueryBuilder[] {
  return RUN_STATUS_MARKS.map((mark) =>
    new dashboard.AnnotationQueryBuilder()
      .name(mark.name)
      .datasource(PROMETHEUS_DATASOURCE)
      .enable(true)
      .hide(false)
      .iconColor(mark.color)
      .target(new prometheus.DataqueryBuilder().refId('Anno').datasource(PROMETHEUS_DATASOURCE).expr(statusAppeared(mark.status)).interval('15s'))
      .titleFormat(`${mark.title}: {{promo_name}}`)
      .textFormat('Run {{testid}} ({{environment}})')
      .tagKeys('testid,environment')
      .useValueForTime(false),
  );
}
