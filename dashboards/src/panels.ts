/**
 * Panel helpers on top of Grafana's foundation SDK: every Kappie panel gets the same datasource, legends, tooltips
 * and platform note, so the dashboard files only say what each panel shows.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as text from '@grafana/grafana-foundation-sdk/text';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import { METRICS, metricName, type MetricKey, type Platform } from '@kappie/collector/catalog';
import type { PanelQuery } from './queries';
import { DATASOURCE_REF } from './variables';

/** Grafana unit ids the panels use. */
export const UNIT = {
  bitsPerSecond: 'bps',
  bytesPerSecond: 'Bps',
  packetsPerSecond: 'pps',
  perSecond: 'cps',
  count: 'short',
  sockets: 'short',
  seconds: 's',
  bytes: 'decbytes',
  none: 'none',
} as const;
export type Unit = (typeof UNIT)[keyof typeof UNIT];

export interface PanelSpec {
  readonly title: string;
  /** What the panel shows and how to read it; the platform note and metric origins are appended. */
  readonly description: string;
  readonly query: PanelQuery;
  readonly unit: Unit;
  /** Grid width out of 24. */
  readonly width?: number;
  readonly height?: number;
}

/** Platforms on which every metric of the query is reported (the intersection). */
export function queryPlatforms(query: PanelQuery): Platform[] {
  const all: Platform[] = ['linux', 'windows'];
  return all.filter((platform) =>
    query.metrics.every((key) => (METRICS[key].platforms as readonly Platform[]).includes(platform)),
  );
}

export function isLinuxOnly(query: PanelQuery): boolean {
  const platforms = queryPlatforms(query);
  return platforms.length === 1 && platforms[0] === 'linux';
}

/** Shown in a Linux-only panel instead of a bare "No data", so a Windows selection explains itself. */
export const LINUX_ONLY_NO_VALUE = 'No data: Linux nodes only (Windows nodes do not report this metric)';

function platformNote(query: PanelQuery): string {
  if (!isLinuxOnly(query)) return '';
  const names = query.metrics.map((key) => metricName(METRICS[key])).join(', ');
  return `\n\n**Linux nodes only**: ${names} has no Windows counterpart, so Windows nodes show no data here.`;
}

function originNote(metrics: readonly MetricKey[]): string {
  const lines = metrics.map((key) => {
    const definition = METRICS[key];
    const origins = Object.entries(definition.origin)
      .map(([platform, origin]) => `${platform === 'linux' ? 'Linux' : 'Windows'}: ${origin}`)
      .join('; ');
    return `${metricName(definition)}: ${origins}.`;
  });
  return `\n\nSource: ${lines.join(' ')}`;
}

export function describe(spec: PanelSpec): string {
  return `${spec.description}${platformNote(spec.query)}${originNote(spec.query.metrics)}`;
}

function target(query: PanelQuery, refId = 'A'): prometheus.DataqueryBuilder {
  const builder = new prometheus.DataqueryBuilder()
    .refId(refId)
    .datasource(DATASOURCE_REF)
    .expr(query.expr)
    .legendFormat(query.legend);
  return query.kind === 'instant' ? builder.instant() : builder.range();
}

function noValue(query: PanelQuery): string {
  return isLinuxOnly(query) ? LINUX_ONLY_NO_VALUE : 'No data';
}

export function timeseriesPanel(spec: PanelSpec & { stacked?: boolean }): timeseries.PanelBuilder {
  const builder = new timeseries.PanelBuilder()
    .title(spec.title)
    .description(describe(spec))
    .datasource(DATASOURCE_REF)
    .withTarget(target(spec.query))
    .unit(spec.unit)
    .min(0)
    .noValue(noValue(spec.query))
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
    )
    .span(spec.width ?? 12)
    .height(spec.height ?? 8);
  if (spec.stacked) builder.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  return builder;
}

export function statPanel(spec: PanelSpec & { thresholds?: dashboard.Threshold[] }): stat.PanelBuilder {
  const builder = new stat.PanelBuilder()
    .title(spec.title)
    .description(describe(spec))
    .datasource(DATASOURCE_REF)
    .withTarget(target(spec.query))
    .unit(spec.unit)
    .noValue(noValue(spec.query))
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .span(spec.width ?? 4)
    .height(spec.height ?? 4);
  if (spec.thresholds) {
    builder.thresholds(
      new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(spec.thresholds),
    );
  }
  return builder;
}

/** A table of an instant query, one row per series, labels as columns. */
export function tablePanel(
  spec: PanelSpec & { hiddenColumns?: readonly string[]; valueColumn: string; mappings?: dashboard.ValueMapping[] },
): table.PanelBuilder {
  const exclude: Record<string, boolean> = { Time: true };
  for (const column of spec.hiddenColumns ?? []) exclude[column] = true;
  const builder = new table.PanelBuilder()
    .title(spec.title)
    .description(describe(spec))
    .datasource(DATASOURCE_REF)
    .withTarget(target(spec.query).format(prometheus.PromQueryFormat.Table))
    .withTransformation({
      id: 'organize',
      options: { excludeByName: exclude, renameByName: { Value: spec.valueColumn } },
    })
    .unit(spec.unit)
    .noValue(noValue(spec.query))
    .span(spec.width ?? 12)
    .height(spec.height ?? 8);
  if (spec.mappings) builder.mappings(spec.mappings);
  return builder;
}

/** Horizontal bars of an instant query: "top N" views. */
export function topBarsPanel(spec: PanelSpec): bargauge.PanelBuilder {
  return new bargauge.PanelBuilder()
    .title(spec.title)
    .description(describe(spec))
    .datasource(DATASOURCE_REF)
    .withTarget(target(spec.query))
    .unit(spec.unit)
    .noValue(noValue(spec.query))
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Basic)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .span(spec.width ?? 12)
    .height(spec.height ?? 8);
}

export function textPanel(title: string, markdown: string, width = 24, height = 3): text.PanelBuilder {
  return new text.PanelBuilder().title(title).mode(text.TextMode.Markdown).content(markdown).span(width).height(height);
}
