import type { DataSourceRef } from '@grafana/schema';
import { QueryVariable, SceneVariableSet, type SceneVariable } from '@grafana/scenes';
import { VariableRefresh, VariableSort } from '@grafana/schema';
import { VARIABLE, VARIABLE_QUERIES } from '../queries/promql';

/** Regex for "All": also matches series without the label (a single-cluster setup has no `cluster` label). */
export const MATCH_ALL = '.*';

const LABELS: Record<keyof typeof VARIABLE_QUERIES, string> = {
  cluster: 'Cluster',
  os: 'OS',
  node: 'Node',
  interface: 'Interface',
  reason: 'Drop reason',
};

function variable(key: keyof typeof VARIABLE_QUERIES, datasource: DataSourceRef, allValue?: string): QueryVariable {
  return new QueryVariable({
    name: VARIABLE[key],
    label: LABELS[key],
    datasource,
    query: { query: VARIABLE_QUERIES[key], refId: `variable-${key}` },
    refresh: VariableRefresh.onTimeRangeChanged,
    sort: VariableSort.alphabeticalAsc,
    isMulti: true,
    includeAll: true,
    defaultToAll: true,
    allValue,
  });
}

/**
 * Cluster, OS and node on every page, plus the page's own (interface, reason). `node` has no custom "All" value on
 * purpose: Grafana then expands "All" to the listed nodes, the ones of the chosen OS, so the OS choice narrows every
 * query.
 */
export function pageVariables(datasource: DataSourceRef, extra: readonly ('interface' | 'reason')[]): SceneVariableSet {
  const variables: SceneVariable[] = [
    variable('cluster', datasource, MATCH_ALL),
    variable('os', datasource),
    variable('node', datasource),
    ...extra.map((key) => variable(key, datasource, MATCH_ALL)),
  ];
  return new SceneVariableSet({ variables });
}
