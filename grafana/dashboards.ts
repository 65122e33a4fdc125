// Every generated dashboard, by the file it is written to under grafana/dashboards/.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { k6InfluxdbDashboard } from './k6/influxdb-dashboard.ts';
import { k6PrometheusDashboard } from './k6/prometheus-dashboard.ts';
import { promoMarketingDashboard } from './marketing/dashboard.ts';

export const DASHBOARDS: ReadonlyArray<{ file: string; build: () => dashboard.Dashboard }> = [
  { file: 'k6-prometheus.json', build: k6PrometheusDashboard },
  { file: 'k6-influxdb.json', build: k6InfluxdbDashboard },
  { file: 'promo-marketing.json', build: promoMarketingDashboard },
];
