import pluginJson from './plugin.json';

export const PLUGIN_ID = pluginJson.id;
export const PLUGIN_BASE_URL = `/a/${PLUGIN_ID}`;

/** The app's pages, as URL segments under /a/kappie-network-app/ (the same paths plugin.json lists). */
export const ROUTES = {
  overview: 'overview',
  drops: 'drops',
  tcp: 'tcp',
  interfaces: 'interfaces',
} as const;

export function prefixRoute(route: string): string {
  return `${PLUGIN_BASE_URL}/${route}`;
}

/**
 * Datasource plugin types that speak PromQL for the kappie_* metrics: Grafana's core Prometheus datasource, and the
 * Azure Monitor managed service for Prometheus datasource, which has been a separate plugin since Azure
 * authentication left the core Prometheus datasource.
 */
export const PROMETHEUS_DATASOURCE_TYPES: readonly string[] = ['prometheus', 'grafana-azureprometheus-datasource'];

/** The app's settings, stored by Grafana in the plugin's jsonData (settable by provisioning/plugins/*.yaml). */
export interface KappieAppSettings {
  /** uid of the Prometheus datasource the pages query. */
  datasourceUid?: string;
}
