/** Kappie's Grafana dashboards as code: definitions, queries and the builder that turns them into JSON. */
import { buildDashboard, type DashboardDefinition, type DashboardJson } from './dashboard-builder';
import { drops } from './dashboards/drops';
import { interfaces } from './dashboards/interfaces';
import { overview } from './dashboards/overview';
import { tcp } from './dashboards/tcp';

export { QUERIES, allQueries, INTERFACE_STATISTICS, TCP_TROUBLE_STATISTICS, type PanelQuery } from './queries';
export * from './variables';
export { DASHBOARD_TAG, buildDashboard, type DashboardDefinition, type DashboardJson } from './dashboard-builder';
export { LINUX_ONLY_NO_VALUE, isLinuxOnly, queryPlatforms } from './panels';

export const DASHBOARDS: readonly DashboardDefinition[] = [overview, drops, tcp, interfaces];

export function buildAll(): { definition: DashboardDefinition; json: DashboardJson }[] {
  return DASHBOARDS.map((definition) => ({ definition, json: buildDashboard(definition) }));
}
