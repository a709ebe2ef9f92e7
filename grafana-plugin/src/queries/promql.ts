/**
 * PromQL building blocks for the app's pages: metric names and label names come from the catalog only, and every
 * selector carries the matchers of the page variables (cluster, OS, node), so choosing Windows nodes narrows every
 * panel to them.
 */
import { LABEL, METRICS, metricName, type MetricKey } from '@kappie/collector/catalog';

/** The scene variables the pages share (the same names as the bundled dashboards' variables). */
export const VARIABLE = {
  cluster: 'cluster',
  os: 'os',
  node: 'node',
  interface: 'interface',
  reason: 'reason',
} as const;
export type VariableName = (typeof VARIABLE)[keyof typeof VARIABLE];

export const RATE_INTERVAL = '$__rate_interval';
export const RANGE = '$__range';

export const ref = (variable: VariableName): string => `$${variable}`;

/** `label=~"$variable"`: multi-value variables expand to a regex alternation. */
export const matchVariable = (label: string, variable: VariableName): string => `${label}=~"${ref(variable)}"`;
export const equals = (label: string, value: string): string => `${label}="${value}"`;
export const notEquals = (label: string, value: string): string => `${label}!="${value}"`;
export const matchRegex = (label: string, pattern: string): string => `${label}=~"${pattern}"`;
export const anyOf = (values: readonly string[]): string => values.join('|');

/**
 * Every series a page reads belongs to a node: the cluster and node variables narrow it. The node variable is
 * itself filtered by the OS variable (see the variable queries), so the OS choice reaches every panel through it.
 */
export const NODE_MATCHERS: readonly string[] = [
  matchVariable(LABEL.cluster, VARIABLE.cluster),
  matchVariable(LABEL.nodeName, VARIABLE.node),
];

export const name = (key: MetricKey): string => metricName(METRICS[key]);

export function selector(key: MetricKey, ...extra: string[]): string {
  return `${name(key)}{${[...NODE_MATCHERS, ...extra].join(', ')}}`;
}

export const rate = (key: MetricKey, ...extra: string[]): string =>
  `rate(${selector(key, ...extra)}[${RATE_INTERVAL}])`;
export const increaseOverRange = (key: MetricKey, ...extra: string[]): string =>
  `increase(${selector(key, ...extra)}[${RANGE}])`;
export const sumBy = (labels: readonly string[], expr: string): string => `sum by (${labels.join(', ')}) (${expr})`;
export const legend = (...labels: string[]): string => labels.map((label) => `{{${label}}}`).join(' ');

const buildInfo = name('buildInfo');

/** The queries behind the variables, each narrowed by the ones before it. */
export const VARIABLE_QUERIES = {
  cluster: `label_values(${buildInfo}, ${LABEL.cluster})`,
  os: `label_values(${buildInfo}{${matchVariable(LABEL.cluster, VARIABLE.cluster)}}, ${LABEL.os})`,
  node: `label_values(${buildInfo}{${matchVariable(LABEL.cluster, VARIABLE.cluster)}, ${matchVariable(LABEL.os, VARIABLE.os)}}, ${LABEL.nodeName})`,
  interface: `label_values(${selector('interfaceStats')}, ${LABEL.interfaceName})`,
  reason: `label_values(${selector('dropCount')}, ${LABEL.reason})`,
} as const;
