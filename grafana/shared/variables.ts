// Dashboard variables: the datasource picker, label or tag pickers, and free text.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { INFLUX_DATASOURCE } from './influxql.ts';
import { PROMETHEUS_DATASOURCE } from './panels.ts';

const ALL: dashboard.VariableOption = { selected: true, text: 'All', value: '$__all' };

export function prometheusDatasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus').current({ selected: true, text: 'Prometheus', value: 'prometheus' });
}

export interface PickerOptions {
  label: string;
  description: string;
  /** Several values and an All entry (matching anything, even a missing label). */
  multi?: boolean;
}

function picker(name: string, query: string, datasource: dashboard.DataSourceRef, options: PickerOptions): dashboard.QueryVariableBuilder {
  const v = new dashboard.QueryVariableBuilder(name)
    .label(options.label)
    .description(options.description)
    .datasource(datasource)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalDesc);
  if (options.multi) v.multi(true).includeAll(true).allValue('.*').current(ALL);
  else v.multi(false).includeAll(false);
  return v;
}

/** `label_values(metric, label)` from Prometheus. */
export function prometheusLabelVariable(name: string, metric: string, label: string, options: PickerOptions): dashboard.QueryVariableBuilder {
  return picker(name, `label_values(${metric}, ${label})`, PROMETHEUS_DATASOURCE, options);
}

/** `SHOW TAG VALUES FROM "measurement" WITH KEY = "tag"` from InfluxDB. */
export function influxTagVariable(name: string, measurement: string, tag: string, options: PickerOptions): dashboard.QueryVariableBuilder {
  return picker(name, `SHOW TAG VALUES FROM "${measurement}" WITH KEY = "${tag}"`, INFLUX_DATASOURCE, options);
}

export function textVariable(name: string, label: string, defaultValue: string, description: string): dashboard.TextBoxVariableBuilder {
  return new dashboard.TextBoxVariableBuilder(name).label(label).description(description).defaultValue(defaultValue).current({ selected: true, text: defaultValue, value: defaultValue });
}
