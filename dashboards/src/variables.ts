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

/** The datasource reference panels and variables use: whatever Prometheus-type datasource the user picked. */
export const DATASOURCE_REF = { type: 'prometheus', uid: `\${${VARIABLE.datasource}}` } as const;

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
