import type { DataSourceRef } from '@grafana/schema';
import { QueryVariable, SceneVariableSet } from '@grafana/scenes';
import { VariableRefresh, VariableSort } from '@grafana/schema';
import {
  COMMON_VARIABLES,
  VARIABLE_DEFINITIONS,
  type ExtraVariable,
  type VariableDefinition,
} from '@kappie/dashboards/variables';

function variable({ name, label, query, allValue }: VariableDefinition, datasource: DataSourceRef): QueryVariable {
  return new QueryVariable({
    name,
    label,
    datasource,
    query: { query, refId: `variable-${name}` },
    refresh: VariableRefresh.onTimeRangeChanged,
    sort: VariableSort.alphabeticalAsc,
    isMulti: true,
    includeAll: true,
    defaultToAll: true,
    allValue,
  });
}

/**
 * Cluster, OS and node on every page, plus the page's own (interface, reason): the dashboards' variables, defined
 * once in dashboards/src/variables.ts (names, labels, queries and "All" values).
 */
export function pageVariables(datasource: DataSourceRef, extra: readonly ExtraVariable[]): SceneVariableSet {
  const definitions = [...COMMON_VARIABLES, ...extra.map((name) => VARIABLE_DEFINITIONS[name])];
  return new SceneVariableSet({ variables: definitions.map((definition) => variable(definition, datasource)) });
}
