/**
 * The template variables every Kappie dashboard shares, and the label matchers panels use to honour them.
 *
 * Why the matchers look the way they do:
 * - `cluster` is only on the series when the collector is configured with one or the scraper adds it (Azure managed
 *   Prometheus does); a single-cluster BYO setup has no `cluster` label at all. So the variable includes "All" with
 *   the value `.*`, and `cluster=~".*"` also matches series without the label.
 * - `os` and `node` come from `kappie_build_info`, the one series every collector exports whatever its sources.
 *   `node` has no custom "All" value on purpose: Grafana then expands "All" to the nodes of the chosen OS, so picking
 *   Windows really narrows every panel to Windows nodes.
 */
import { LABEL, METRICS, metricName } from '@kappie/collector/catalog';

export const VARIABLE = {
  datasource: 'datasource',
  cluster: 'cluster',
  os: 'os',
  node: 'node',
  interface: 'interface',
  reason: 'reason',
} as const;
export type VariableName = (typeof VARIABLE)[keyof typeof VARIABLE];

/** Grafana's built-in interval variables the queries use. */
export const BUILTIN = { rateInterval: '$__rate_interval', range: '$__range' } as const;

/**
 * The `query` of the `datasource` variable: the plugin id whose data sources it lists. One id covers every
 * Prometheus flavour, on Grafana 12.0 and later:
 * - Grafana lists a data source variable's options with `matchPluginId(query, dataSource.meta)`
 *   (packages/grafana-data/src/utils/matchPluginId.ts; used by Scenes' DataSourceVariable through
 *   `getDataSourceSrv().getList({ pluginId })` and by the older variables reducer,
 *   public/app/features/variables/datasource/reducer.ts). For `prometheus` it also matches every plugin id of the
 *   form `grafana-<x>prometheus-datasource` (isPromFlavor, grafana/grafana PR #103321, Grafana 12.0): the core
 *   Prometheus data source and `grafana-azureprometheus-datasource` (where Grafana 13 moved Azure authentication,
 *   migrating existing data sources "without changes" to dashboards) and `grafana-amazonprometheus-datasource`.
 * - So `prometheus` must stay: `grafana-azureprometheus-datasource` would list only Azure data sources, and the
 *   variable's `regex` filters data source NAMES, not types, so it cannot widen the list either.
 * - Grafana 11 matched the exact id (or aliasIDs) only; there Azure managed Prometheus uses the core `prometheus`
 *   type with Azure authentication, which this id lists too.
 * The dashboards carry no `__inputs`: an app plugin's bundled dashboards are imported with no inputs
 * (pkg/services/dashboardimport/utils/dash_template_evaluator.go fails with DashboardInputMissingError on any),
 * and without them the UI import, file provisioning and `kappie dashboards push` all keep `${datasource}` as is.
 * dashboards/test/datasource-types.test.ts checks every generated dashboard against matchPluginId.
 */
export const DATASOURCE_PLUGIN_ID = 'prometheus';

/** The datasource reference panels and variables use: whatever Prometheus-flavoured data source the user picked. */
export const DATASOURCE_REF = { type: DATASOURCE_PLUGIN_ID, uid: `\${${VARIABLE.datasource}}` } as const;

const ref = (name: VariableName) => `$${name}`;

/** Matchers that narrow a series to the chosen cluster and nodes; every panel query starts from these. */
export const NODE_MATCHERS = [
  `${LABEL.cluster}=~"${ref(VARIABLE.cluster)}"`,
  `${LABEL.nodeName}=~"${ref(VARIABLE.node)}"`,
] as const;

/** `metric{cluster=~"$cluster",node_name=~"$node",<extra>}` */
export function selector(metric: string, ...extra: string[]): string {
  return `${metric}{${[...NODE_MATCHERS, ...extra].join(', ')}}`;
}

const buildInfo = metricName(METRICS.buildInfo);

/** The queries behind the variables, in dependency order (each may use the ones before it). */
export const VARIABLE_QUERIES = {
  cluster: `label_values(${buildInfo}, ${LABEL.cluster})`,
  os: `label_values(${buildInfo}{${LABEL.cluster}=~"${ref(VARIABLE.cluster)}"}, ${LABEL.os})`,
  node: `label_values(${buildInfo}{${LABEL.cluster}=~"${ref(VARIABLE.cluster)}", ${LABEL.os}=~"${ref(VARIABLE.os)}"}, ${LABEL.nodeName})`,
  interface: `label_values(${selector(metricName(METRICS.interfaceStats))}, ${LABEL.interfaceName})`,
  reason: `label_values(${selector(metricName(METRICS.dropCount))}, ${LABEL.reason})`,
} as const;

export const MATCH_ALL = '.*';

export interface VariableDefinition {
  readonly name: VariableName;
  readonly label: string;
  /** label_values(...) query; VARIABLE_QUERIES. */
  readonly query: string;
  /** The regex "All" stands for; undefined: Grafana expands "All" to the listed values. */
  readonly allValue: string | undefined;
}

/**
 * The query variables, in dependency order, as both the dashboards and the app's pages define them. `cluster` and
 * `os` "All" is `.*` (also matches series without the label); `node` has no custom "All" on purpose: Grafana then
 * expands "All" to the nodes of the chosen OS, so choosing an OS narrows every panel.
 */
export const VARIABLE_DEFINITIONS = {
  cluster: { name: VARIABLE.cluster, label: 'Cluster', query: VARIABLE_QUERIES.cluster, allValue: MATCH_ALL },
  os: { name: VARIABLE.os, label: 'OS', query: VARIABLE_QUERIES.os, allValue: MATCH_ALL },
  node: { name: VARIABLE.node, label: 'Node', query: VARIABLE_QUERIES.node, allValue: undefined },
  interface: { name: VARIABLE.interface, label: 'Interface', query: VARIABLE_QUERIES.interface, allValue: MATCH_ALL },
  reason: { name: VARIABLE.reason, label: 'Drop reason', query: VARIABLE_QUERIES.reason, allValue: MATCH_ALL },
} as const satisfies Record<keyof typeof VARIABLE_QUERIES, VariableDefinition>;

/** The variables every dashboard and page has, before its own (`interface`, `reason`). */
export const COMMON_VARIABLES = [
  VARIABLE_DEFINITIONS.cluster,
  VARIABLE_DEFINITIONS.os,
  VARIABLE_DEFINITIONS.node,
] as const;
export type ExtraVariable = 'interface' | 'reason';

/** Values for the variables when a query runs outside Grafana (tests, the `kappie` CLI): regexes, like Grafana's. */
export interface VariableValues {
  readonly cluster: string;
  readonly os: string;
  readonly node: string;
  readonly interface: string;
  readonly reason: string;
  /** Prometheus duration for `$__rate_interval`, e.g. `1m`. */
  readonly rateInterval: string;
  /** Prometheus duration for `$__range`, e.g. `1h`. */
  readonly range: string;
}

/**
 * Substitutes the dashboards' variables the way Grafana does for a Prometheus query: `$name` and `${name}`.
 * Longer names first so `$__range` never eats part of `$__rate_interval`. Throws on a variable it does not know,
 * so a query with a typo'd variable fails a test instead of reaching Prometheus half-substituted.
 */
export function substituteVariables(expr: string, values: VariableValues): string {
  const table: Record<string, string> = {
    [VARIABLE.cluster]: values.cluster,
    [VARIABLE.os]: values.os,
    [VARIABLE.node]: values.node,
    [VARIABLE.interface]: values.interface,
    [VARIABLE.reason]: values.reason,
    __rate_interval: values.rateInterval,
    __range: values.range,
  };
  return expr.replace(
    /\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)/g,
    (match, braced: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare) as string;
      const value = table[name];
      if (value === undefined) throw new Error(`unknown dashboard variable ${match} in query: ${expr}`);
      return value;
    },
  );
}
