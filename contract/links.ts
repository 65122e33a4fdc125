// Links to a run that the CLI, the sink's messages and the status page all print.
// The uid and slug are those of grafana/marketing/dashboard.ts.

export function marketingDashboardUrl(grafanaUrl: string, testid: string): string {
  return `${grafanaUrl.replace(/\/+$/, '')}/d/promo-marketing/promo-marketing-view?var-testid=${encodeURIComponent(testid)}`;
}
