// Dashboard assembly: rows then their panels, laid out left to right by the SDK's
// DashboardBuilder, and panel ids given in reading order once the dashboard is built.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { row } from './panels.ts';

export interface Section {
  /** Row title; a section without one sits above the first row. */
  row?: string;
  panels: readonly cog.Builder<dashboard.Panel>[];
}

export function addSections(builder: dashboard.DashboardBuilder, sections: readonly Section[]): dashboard.DashboardBuilder {
  for (const section of sections) {
    if (section.row) builder.withRow(row(section.row));
    for (const panel of section.panels) builder.withPanel(panel);
  }
  return builder;
}

/** Builds and numbers the panels 1, 2, 3… (rows included), so ids are unique and stable. */
export function buildDashboard(builder: dashboard.DashboardBuilder): dashboard.Dashboard {
  const built = builder.build();
  let id = 0;
  for (const panel of built.panels ?? []) {
    panel.id = ++id;
    if (panel.type === 'row') for (const inner of (panel as dashboard.RowPanel).panels) inner.id = ++id;
  }
  return built;
}

/** Settings every dashboard of the project shares. */
export function baseDashboard(title: string, uid: string, description: string, tags: string[]): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(tags)
    .editable()
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-30m', to: 'now' })
    .refresh('10s');
}
