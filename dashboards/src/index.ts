/** Kappie's Grafana dashboards as code: the panel set, the views, and the builder that turns them into JSON. */
import { buildDashboard, type DashboardJson } from './dashboard-builder';
import { DASHBOARDS, type DashboardDefinition } from './layouts';

export * from './queries';
export * from './platforms';
export * from './variables';
export * from './layouts';
export { DASHBOARD_TAG, buildDashboard, type DashboardJson } from './dashboard-builder';

export function buildAll(): { definition: DashboardDefinition; json: DashboardJson }[] {
  return DASHBOARDS.map((definition) => ({ definition, json: buildDashboard(definition) }));
}
