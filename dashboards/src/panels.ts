/**
 * Turns a panel of queries.ts into a Grafana panel with the foundation SDK: every Kappie panel gets the same
 * datasource, legends, tooltips and no-data text, so the panel set itself only says what each panel shows.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as text from '@grafana/grafana-foundation-sdk/text';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type { PanelItem, TextItem } from './layouts';
import { describePanel, noDataText } from './platforms';
import type { PanelDefinition, TableOptions, ThresholdStep } from './queries';
import { DATASOURCE_REF } from './variables';

const DEFAULT_WIDTH = 12;
const DEFAULT_HEIGHT = 8;

function target(panel: PanelDefinition): prometheus.DataqueryBuilder {
  const builder = new prometheus.DataqueryBuilder()
    .refId('A')
    .datasource(DATASOURCE_REF)
    .expr(panel.expr)
    .legendFormat(panel.legend);
  if (panel.visualization === 'table') builder.format(prometheus.PromQueryFormat.Table);
  return panel.kind === 'instant' ? builder.instant() : builder.range();
}

function thresholds(steps: readonly ThresholdStep[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(steps.map((step) => ({ value: step.value, color: step.color })));
}

function timeseriesPanel(panel: PanelDefinition): timeseries.PanelBuilder {
  const builder = new timeseries.PanelBuilder()
    .fillOpacity(10)
    .lineWidth(1)
    .showPoints(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['mean', 'max', 'lastNotNull']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending),
    );
  if (panel.stacked) builder.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  return builder;
}

function statPanel(panel: PanelDefinition): stat.PanelBuilder {
  const builder = new stat.PanelBuilder()
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  if (panel.thresholds) builder.thresholds(thresholds(panel.thresholds));
  return builder;
}

function valueMappings(options: TableOptions): dashboard.ValueMapping[] {
  if (!options.valueText) return [];
  const entries = Object.entries(options.valueText).map(([value, { text: shown, color }], index) => [
    value,
    { text: shown, color, index },
  ]);
  return [{ type: dashboard.MappingType.ValueToText, options: Object.fromEntries(entries) }];
}

/** A table of an instant query, one row per series, labels as columns. */
function tablePanel(panel: PanelDefinition): table.PanelBuilder {
  const options = panel.table ?? { valueColumn: 'value' };
  const exclude: Record<string, boolean> = { Time: true };
  for (const column of options.hiddenColumns ?? []) exclude[column] = true;
  const builder = new table.PanelBuilder().withTransformation({
    id: 'organize',
    options: { excludeByName: exclude, renameByName: { Value: options.valueColumn } },
  });
  const mappings = valueMappings(options);
  if (mappings.length > 0) builder.mappings(mappings);
  return builder;
}

/** Horizontal bars of an instant query: "top N" views. */
function barsPanel(panel: PanelDefinition): bargauge.PanelBuilder {
  const builder = new bargauge.PanelBuilder()
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  if (panel.thresholds) builder.thresholds(thresholds(panel.thresholds));
  return builder;
}

/** The SDK panel of a layout item: visualization-specific options, then what every panel shares. */
export function buildPanel(item: PanelItem): cog.Builder<dashboard.Panel> {
  const { panel } = item;
  const isStat = panel.visualization === 'stat';
  const width = item.width ?? (isStat ? 4 : DEFAULT_WIDTH);
  const height = item.height ?? (isStat ? 4 : DEFAULT_HEIGHT);
  const builder =
    panel.visualization === 'stat'
      ? statPanel(panel)
      : panel.visualization === 'table'
        ? tablePanel(panel)
        : panel.visualization === 'bargauge'
          ? barsPanel(panel)
          : timeseriesPanel(panel);
  return builder
    .title(panel.title)
    .description(describePanel(panel))
    .datasource(DATASOURCE_REF)
    .withTarget(target(panel))
    .unit(panel.unit)
    .noValue(noDataText(panel))
    .span(width)
    .height(height);
}

export function buildTextPanel(item: TextItem): text.PanelBuilder {
  return new text.PanelBuilder()
    .title(item.title)
    .mode(text.TextMode.Markdown)
    .content(item.text)
    .span(item.width ?? 24)
    .height(item.height ?? 3);
}
