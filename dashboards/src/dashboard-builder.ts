/**
 * Turns a Kappie view (layouts.ts) into classic Grafana dashboard JSON with the foundation SDK, then finishes what
 * the SDK leaves to the caller: panel ids, a 24-column grid layout that wraps, refIds, the annotation list.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as sdk from '@grafana/grafana-foundation-sdk/dashboard';
import { isPanelItem, isRowItem, type DashboardDefinition } from './layouts';
import { buildPanel, buildTextPanel } from './panels';
import {
  COMMON_VARIABLES,
  DATASOURCE_PLUGIN_ID,
  DATASOURCE_REF,
  VARIABLE,
  VARIABLE_DEFINITIONS,
  type VariableDefinition,
} from './variables';

export type { DashboardDefinition } from './layouts';

/** Every Kappie dashboard carries this tag; the links bar lists the others by it. */
export const DASHBOARD_TAG = 'kappie';

const GRID_COLUMNS = 24;

function queryVariable({ name, label, query, allValue }: VariableDefinition) {
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
  return [
    // The data source variable lists every Prometheus flavour by this one plugin id: see DATASOURCE_PLUGIN_ID.
    new sdk.DatasourceVariableBuilder(VARIABLE.datasource).label('Prometheus').type(DATASOURCE_PLUGIN_ID),
    ...[...COMMON_VARIABLES, ...definition.extraVariables.map((name) => VARIABLE_DEFINITIONS[name])].map(queryVariable),
  ];
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
    if (isRowItem(item)) builder.withRow(new sdk.RowBuilder(item.row));
    else if (isPanelItem(item)) builder.withPanel(buildPanel(item));
    else builder.withPanel(buildTextPanel(item));
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
