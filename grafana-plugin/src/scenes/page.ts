/**
 * One Scenes page per view (pages.ts): the shared variables, a time picker, and rows of panels, each panel with its
 * own query runner against the chosen Prometheus datasource. Every panel's query, legend, unit, description and
 * no-data text come from the shared panel set (dashboards/src/queries.ts), as on the dashboards.
 */
import type { DataSourceRef } from '@grafana/schema';
import { ThresholdsMode, type ThresholdsConfig } from '@grafana/data';
import { MappingType, StackingMode } from '@grafana/schema';
import {
  EmbeddedScene,
  PanelBuilders,
  SceneControlsSpacer,
  SceneDataTransformer,
  SceneFlexItem,
  SceneFlexLayout,
  SceneQueryRunner,
  SceneReactObject,
  SceneRefreshPicker,
  SceneTimePicker,
  SceneTimeRange,
  VariableValueSelectors,
  type SceneDataProvider,
  type VizPanel,
} from '@grafana/scenes';
import {
  describePanel,
  isLinuxOnly,
  linuxOrigin,
  noDataText,
  queryPlatforms,
  type PanelDefinition,
} from '@kappie/dashboards/queries';
import { createElement } from 'react';
import { LinuxOnlyNote } from '../components/LinuxOnlyNote';
import { showOnlyForPlatforms } from './osAware';
import type { PageDefinition, PagePanel } from './pages';
import { pageVariables } from './variables';

const PANEL_HEIGHT = 300;

export function queryRunner(definition: PanelDefinition, datasource: DataSourceRef): SceneQueryRunner {
  return new SceneQueryRunner({
    datasource,
    queries: [
      {
        refId: 'A',
        expr: definition.expr,
        legendFormat: definition.legend,
        range: definition.kind === 'range',
        instant: definition.kind === 'instant',
        format: definition.visualization === 'table' ? 'table' : 'time_series',
      },
    ],
    maxDataPoints: 500,
  });
}

/** The data of a panel: tables rename the value column and hide Time (and what the view hides), as the dashboards do. */
function panelData(definition: PanelDefinition, datasource: DataSourceRef): SceneDataProvider {
  const runner = queryRunner(definition, datasource);
  if (!definition.table) return runner;
  const excludeByName: Record<string, boolean> = { Time: true };
  for (const column of definition.table.hiddenColumns ?? []) excludeByName[column] = true;
  return new SceneDataTransformer({
    $data: runner,
    transformations: [
      { id: 'organize', options: { excludeByName, renameByName: { Value: definition.table.valueColumn } } },
    ],
  });
}

/** The shared panel set's threshold steps as Grafana's thresholds (the base step's value is -Infinity). */
function thresholdsConfig(steps: NonNullable<PanelDefinition['thresholds']>): ThresholdsConfig {
  return {
    mode: ThresholdsMode.Absolute,
    steps: steps.map((step) => ({ value: step.value ?? -Infinity, color: step.color })),
  };
}

/** The setters of a panel builder that every visualization has (each returns the builder). */
interface SharedPanelSetters<Builder> {
  setTitle(title: string): Builder;
  setDescription(description: string): Builder;
  setUnit(unit: string | undefined): Builder;
  setNoValue(noValue: string | undefined): Builder;
  setData(data: SceneDataProvider): Builder;
}

/** `builder` with what every panel takes from its definition: title, description, unit, no-data text and data. */
function withSharedOptions<Builder extends SharedPanelSetters<Builder>>(
  builder: Builder,
  definition: PanelDefinition,
  datasource: DataSourceRef,
): Builder {
  return builder
    .setTitle(isLinuxOnly(definition) ? `${definition.title} (Linux nodes)` : definition.title)
    .setDescription(describePanel(definition))
    .setUnit(definition.unit)
    .setNoValue(noDataText(definition))
    .setData(panelData(definition, datasource));
}

function vizPanel(definition: PanelDefinition, datasource: DataSourceRef): VizPanel {
  switch (definition.visualization) {
    case 'stat': {
      const builder = withSharedOptions(PanelBuilders.stat(), definition, datasource);
      if (definition.thresholds) builder.setThresholds(thresholdsConfig(definition.thresholds));
      return builder.build();
    }
    case 'table': {
      const builder = withSharedOptions(PanelBuilders.table(), definition, datasource);
      const valueText = definition.table?.valueText;
      if (valueText) {
        builder.setMappings([
          {
            type: MappingType.ValueToText,
            options: Object.fromEntries(
              Object.entries(valueText).map(([value, shown], index) => [value, { ...shown, index }]),
            ),
          },
        ]);
      }
      return builder.build();
    }
    case 'bargauge': {
      const builder = withSharedOptions(PanelBuilders.bargauge(), definition, datasource);
      if (definition.thresholds) builder.setThresholds(thresholdsConfig(definition.thresholds));
      return builder.build();
    }
    case 'timeseries': {
      const builder = withSharedOptions(PanelBuilders.timeseries(), definition, datasource);
      if (definition.stacked) builder.setCustomFieldConfig('stacking', { mode: StackingMode.Normal });
      return builder.build();
    }
  }
}

function panelItem({ panel: definition }: PagePanel, datasource: DataSourceRef): SceneFlexItem {
  const item = new SceneFlexItem({ minHeight: PANEL_HEIGHT, body: vizPanel(definition, datasource) });
  if (!isLinuxOnly(definition)) return item;
  const note = new SceneFlexItem({
    minHeight: PANEL_HEIGHT,
    isHidden: true,
    body: new SceneReactObject({
      reactNode: createElement(LinuxOnlyNote, { title: definition.title, origin: linuxOrigin(definition) }),
    }),
  });
  return new SceneFlexItem({
    minHeight: PANEL_HEIGHT,
    body: new SceneFlexLayout({
      direction: 'column',
      children: [item, note],
      $behaviors: [showOnlyForPlatforms(queryPlatforms(definition), item, note)],
    }),
  });
}

export function pageScene(page: PageDefinition, datasource: DataSourceRef): EmbeddedScene {
  return new EmbeddedScene({
    $timeRange: new SceneTimeRange({ from: 'now-1h', to: 'now' }),
    $variables: pageVariables(datasource, page.variables),
    controls: [
      new VariableValueSelectors({}),
      new SceneControlsSpacer(),
      new SceneTimePicker({ isOnCanvas: true }),
      new SceneRefreshPicker({ intervals: ['30s', '1m', '5m'], isOnCanvas: true }),
    ],
    body: new SceneFlexLayout({
      direction: 'column',
      children: page.rows.map(
        (row) =>
          new SceneFlexItem({
            minHeight: PANEL_HEIGHT,
            body: new SceneFlexLayout({
              direction: 'row',
              children: row.map((panel) => panelItem(panel, datasource)),
            }),
          }),
      ),
    }),
  });
}
