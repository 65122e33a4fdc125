// "k6 / Prometheus" (uid k6-prometheus): k6 runs from Prometheus, in both k6 modes, with
// the application's own metrics underneath.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { addSections, baseDashboard, buildDashboard } from '../shared/layout.ts';
import { prometheusDatasourceVariable, prometheusLabelVariable } from '../shared/variables.ts';
import { k6Sections } from './panels.ts';
import { prometheusK6Queries } from './prometheus.ts';
import { serverSideSection } from './server-row.ts';

export const K6_PROMETHEUS_UID = 'k6-prometheus';

export function k6PrometheusDashboard(): dashboard.Dashboard {
  const builder = baseDashboard(
    'k6 / Prometheus',
    K6_PROMETHEUS_UID,
    "k6 runs sent with experimental-prometheus-rw (through the sink) and the application's own metrics. Works with native histograms and with trend stats.",
    ['k6', 'prometheus', 'promo-load-analyzer'],
  )
    .withVariable(prometheusDatasourceVariable())
    .withVariable(prometheusLabelVariable('testid', 'k6_vus', 'testid', { label: 'Test run', description: 'k6 runs (testid tag).', multi: true }))
    .withVariable(prometheusLabelVariable('environment', 'k6_vus', 'environment', { label: 'Environment', description: 'prod or preprod.', multi: true }))
    .withVariable(prometheusLabelVariable('promo_type', 'k6_vus', 'promo_type', { label: 'Promo type', description: 'striked_price, auto_cart, manual_code or none.', multi: true }))
    .withVariable(prometheusLabelVariable('scenario', 'k6_http_reqs_total', 'scenario', { label: 'Scenario', description: 'k6 scenario name.', multi: true }))
    .withVariable(
      prometheusLabelVariable('app_job', 'process_cpu_seconds_total', 'job', { label: 'Application', description: 'Prometheus job of the application under test, for the server-side row (any job with process metrics).', multi: true }).current({
        selected: true,
        text: ['demo'],
        value: ['demo'],
      }),
    );
  return buildDashboard(addSections(builder, [...k6Sections(prometheusK6Queries), serverSideSection()]));
}
