// "Promo / Marketing view" (uid promo-marketing): the grade, users, speed, errors and the
// promo's impact in plain words, with start/stop marks and a link to the sink.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { addSections, baseDashboard, buildDashboard } from '../shared/layout.ts';
import { prometheusDatasourceVariable, prometheusLabelVariable, textVariable } from '../shared/variables.ts';
import { runStatusAnnotations } from './annotations.ts';
import { marketingSections } from './panels.ts';

export const PROMO_MARKETING_UID = 'promo-marketing';
export const DEFAULT_SINK_URL = 'http://localhost:9091/';

export function promoMarketingDashboard(): dashboard.Dashboard {
  const builder = baseDashboard('Promo / Marketing view', PROMO_MARKETING_UID, 'Is the shop ready for the promotion? The grade, shoppers, speed and errors of a test run, and the promo against a baseline.', ['promo', 'marketing', 'promo-load-analyzer'])
    .withVariable(prometheusDatasourceVariable())
    .withVariable(prometheusLabelVariable('testid', 'promo_run_info', 'testid', { label: 'Test run', description: 'The run shown in the live panels.' }))
    .withVariable(prometheusLabelVariable('baseline', 'promo_run_info', 'testid', { label: 'Baseline run', description: 'A run without the promotion, to compare against.' }))
    .withVariable(prometheusLabelVariable('promo', 'promo_run_info', 'testid', { label: 'Promo run', description: 'A run with the promotion.' }))
    .withVariable(textVariable('sink_url', 'Sink address', DEFAULT_SINK_URL, "Where the sink's status page is, as your browser reaches it."))
    .annotations(runStatusAnnotations())
    .link(new dashboard.DashboardLinkBuilder('Sink status page').type(dashboard.DashboardLinkType.Link).url('${sink_url}').tooltip('Live runs and grades, from the sink').icon('external link').targetBlank(true))
    .link(new dashboard.DashboardLinkBuilder('Technical details (k6 / Prometheus)').type(dashboard.DashboardLinkType.Link).url('/d/k6-prometheus?var-testid=${testid}').icon('dashboard').keepTime(true).targetBlank(false));
  return buildDashboard(addSections(builder, marketingSections()));
}
