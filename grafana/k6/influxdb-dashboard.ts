// "k6 / InfluxDB" (uid k6-influxdb): the k6 panels of "k6 / Prometheus", in InfluxQL over
// what the sink writes to InfluxDB (datasource uid influxdb, database k6).
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { INFLUX } from '../shared/influxql.ts';
import { addSections, baseDashboard, buildDashboard } from '../shared/layout.ts';
import { influxTagVariable } from '../shared/variables.ts';
import { influxK6Queries } from './influxdb.ts';
import { k6Sections } from './panels.ts';

export const K6_INFLUXDB_UID = 'k6-influxdb';

export function k6InfluxdbDashboard(): dashboard.Dashboard {
  const M = INFLUX.measurements;
  const builder = baseDashboard('k6 / InfluxDB', K6_INFLUXDB_UID, 'The k6 / Prometheus panels over the InfluxDB copy of the same runs (written by the sink).', ['k6', 'influxdb', 'promo-load-analyzer'])
    .withVariable(influxTagVariable('testid', M.vus, 'testid', { label: 'Test run', description: 'k6 runs (testid tag).', multi: true }))
    .withVariable(influxTagVariable('environment', M.vus, 'environment', { label: 'Environment', description: 'prod or preprod.', multi: true }))
    .withVariable(influxTagVariable('promo_type', M.vus, 'promo_type', { label: 'Promo type', description: 'striked_price, auto_cart, manual_code or none.', multi: true }))
    .withVariable(influxTagVariable('scenario', M.httpReqs, 'scenario', { label: 'Scenario', description: 'k6 scenario name.', multi: true }));
  return buildDashboard(addSections(builder, k6Sections(influxK6Queries)));
}
