/**
 * One Scenes page per entry of PAGES: the shared variables, a time picker, and rows of panels, each panel with its
 * own query runner against the chosen Prometheus datasource.
 */
import type { DataSourceRef } from '@grafana/schema';
import {
  EmbeddedScene,
  PanelBuilders,
  SceneControlsSpacer,
  SceneFlexItem,
  SceneFlexLayout,
  SceneQueryRunner,
  SceneReactObject,
  SceneRefreshPicker,
  SceneTimePicker,
  SceneTimeRange,
  VariableValueSelectors,
  type VizPanel,
} from '@grafana/scenes';
import { createElement } from 'react';
import { LinuxOnlyNote } from '../components/LinuxOnlyNote';
import { isLinuxOnly, linuxOrigin, panelPlatforms, type PageDefinition, type PanelDefinition } from '../queries/panels';
import { showOnlyForPlatforms } from './osAware';
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
        range: !definition.instant,
        instant: definition.instant,
        format: definition.visualization === 'table' ? 'table' : 'time_series',
      },
    ],
    maxDataPoints: 500,
  });
}

function vizPanel(definition: PanelDefinition, datasource: DataSourceRef): VizPanel {
  const title = isLinuxOnly(definition) ? `${definition.title} (Linux nodes)` : definition.title;
  const builder =
    definition.visualization === 'stat'
      ? PanelBuilders.stat()
      : definition.visualization === 'table'
        ? PanelBuilders.table()
        : definition.visualization === 'bargauge'
          ? PanelBuilders.bargauge()
          : PanelBuilders.timeseries();
  return builder
    .setTitle(title)
    .setDescription(definition.description)
    .setUnit(definition.unit)
    .setData(queryRunner(definition, datasource))
    .build();
}

function panelItem(definition: PanelDefinition, datasource: DataSourceRef): SceneFlexItem {
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
      $behaviors: [showOnlyForPlatforms(panelPlatforms(definition), item, note)],
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
              children: row.map((definition) => panelItem(definition, datasource)),
            }),
          }),
      ),
    }),
  });
}
