/**
 * Turns a Kappie dashboard definition into classic Grafana dashboard JSON with the foundation SDK, then finishes what
 * the SDK leaves to the caller: panel ids, a 24-column grid layout that wraps, refIds, the annotation list.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as sdk from '@grafana/grafana-foundation-sdk/dashboard';
import { VARIABLE, VARIABLE_QUERIES, MATCH_ALL, DATASOURCE_REF, type VariableName } from './variables';

export type DashboardItem = cog.Builder<sdk.Panel> | { readonly row: string };

export interface DashboardDefinition {
  /** File name under generated/ and key in QUERIES. */
  readonly file: string;
  /** Stable: Grafana, the app plugin and `kappie dashboards push` update a dashboard by its uid. */
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  /** Variables beyond datasource, cluster, os and node. */
  readonly extraVariables: readonly ('interface' | 'reason')[];
  readonly items: readonly DashboardItem[];
}

/** Every Kappie dashboard carries this tag; the links bar lists the others by it. */
export const DASHBOARD_TAG = 'kappie';

const GRID_COLUMNS = 24;

function queryVariable(name: VariableName, label: string, query: string, allValue: string | undefined) {
  const builder = new sdk.QueryVariableBuilder(name)
    .label(label)
    .query(query)
    .definition(query)
    .datasource(DATASOURCE_REF)
    .refresh(sdk.VariableRefresh.OnTimeRangeChanged)
    .sort(sdk.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .current({ text: 'All', value: '$__all' });
  return allValue === undefined ? builder : builder.allValue(allValue);
}

function variables(definition: DashboardDefinition): cog.Builder<sdk.VariableModel>[] {
  const list: cog.Builder<sdk.VariableModel>[] = [
    new sdk.DatasourceVariableBuilder(VARIABLE.datasource).label('Prometheus').type('prometheus'),
    queryVariable(VARIABLE.cluster, 'Cluster', VARIABLE_QUERIES.cluster, MATCH_ALL),
    queryVariable(VARIABLE.os, 'OS', VARIABLE_QUERIES.os, MATCH_ALL),
    // No allValue: "All" expands to the nodes of the chosen OS (see variables.ts).
    queryVariable(VARIABLE.node, 'Node', VARIABLE_QUERIES.node, undefined),
  ];
  if (definition.extraVariables.includes('interface')) {
    list.push(queryVariable(VARIABLE.interface, 'Interface', VARIABLE_QUERIES.interface, MATCH_ALL));
  }
  if (definition.extraVariables.includes('reason')) {
    list.push(queryVariable(VARIABLE.reason, 'Drop reason', VARIABLE_QUERIES.reason, MATCH_ALL));
  }
  return list;
}

/** The dashboard JSON as Grafana stores it, minus `revision` (assigned from the content hash, see revisions.ts). */
export type DashboardJson = sdk.Dashboard & { id: null; revision?: number };

export function buildDashboard(definition: DashboardDefinition): DashboardJson {
  const builder = new sdk.DashboardBuilder(definition.title)
    .uid(definition.uid)
    .description(definition.description)
    .tags([DASHBOARD_TAG, 'network'])
    .editable()
    .tooltip(sdk.DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .variables(variables(definition))
    .link(
      new sdk.DashboardLinkBuilder('Kappie dashboards')
        .type(sdk.DashboardLinkType.Dashboards)
        .tags([DASHBOARD_TAG])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
  for (const item of definition.items) {
    if ('row' in item) builder.withRow(new sdk.RowBuilder(item.row));
    else builder.withPanel(item);
  }
  return finish(builder.build());
}

function finish(built: sdk.Dashboard): DashboardJson {
  const panels = layout(built.panels ?? []);
  return {
    ...built,
    id: null,
    panels,
    annotations: { list: [] },
  };
}

/** Left-to-right, wrapping at 24 columns; a row header starts a new line. Ids in reading order. */
function layout(panels: NonNullable<sdk.Dashboard['panels']>): NonNullable<sdk.Dashboard['panels']> {
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  let nextId = 1;
  return panels.map((panel) => {
    const width = panel.type === 'row' ? GRID_COLUMNS : (panel.gridPos?.w ?? 12);
    const height = panel.type === 'row' ? 1 : (panel.gridPos?.h ?? 8);
    if (x + width > GRID_COLUMNS || panel.type === 'row') {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    const placed = { ...panel, id: nextId++, gridPos: { x, y, w: width, h: height } };
    x += width;
    lineHeight = Math.max(lineHeight, height);
    if (panel.type === 'row') {
      y += height;
      x = 0;
      lineHeight = 0;
    }
    return placed;
  });
}
