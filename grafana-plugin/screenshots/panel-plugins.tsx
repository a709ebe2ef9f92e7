/**
 * Panel plugins for the screenshot harness. Grafana's own panel plugins (timeseries, stat, table, bargauge) ship only
 * inside Grafana, so the harness registers small ones that draw with the visualization components Grafana publishes
 * in @grafana/ui (TimeSeries, BigValue, Table, BarGauge) from the frames Scenes has already processed with the
 * panel's field config (units, thresholds, value mappings, no-value text). They take none of the options Kappie's
 * panels do not set; what they leave out (tooltips, legend calculations, options panes) is what a screenshot does
 * not show.
 */
import {
  FieldColorModeId,
  FieldConfigProperty,
  PanelPlugin,
  getFieldDisplayValues,
  identityOverrideProcessor,
  numberOverrideProcessor,
  stringOverrideProcessor,
  thresholdsOverrideProcessor,
  unitOverrideProcessor,
  valueMappingsOverrideProcessor,
  displayNameOverrideProcessor,
  standardFieldConfigEditorRegistry,
  ThresholdsMode,
  type FieldConfigPropertyItem,
  type PanelProps,
} from '@grafana/data';
import {
  BarGauge,
  BigValue,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  Table,
  TimeSeries,
  useTheme2,
} from '@grafana/ui';
import {
  AxisPlacement,
  BarGaugeDisplayMode,
  GraphDrawStyle,
  GraphGradientMode,
  LegendDisplayMode,
  TooltipDisplayMode,
  VisibilityMode,
  VizOrientation,
  type GraphFieldConfig,
  type VizLegendOptions,
} from '@grafana/schema';

import type { ComponentType } from 'react';
import { corePanelMeta } from '../test/fake-grafana';

const NO_EDITOR = () => null;

function standardOption(
  id: FieldConfigProperty,
  process: FieldConfigPropertyItem['process'],
  defaultValue?: unknown,
): FieldConfigPropertyItem {
  return {
    id,
    path: id,
    name: id,
    editor: NO_EDITOR,
    override: NO_EDITOR,
    process,
    shouldApply: () => true,
    defaultValue,
  };
}

/**
 * The standard field options Kappie's panels set, with the processors @grafana/data exports (Grafana registers the
 * same options with editors at start; the harness has no options pane).
 */
export function registerStandardFieldOptions(): void {
  standardFieldConfigEditorRegistry.setInit(() => [
    standardOption(FieldConfigProperty.Unit, unitOverrideProcessor),
    standardOption(FieldConfigProperty.Min, numberOverrideProcessor),
    standardOption(FieldConfigProperty.Max, numberOverrideProcessor),
    standardOption(FieldConfigProperty.Decimals, numberOverrideProcessor),
    standardOption(FieldConfigProperty.DisplayName, displayNameOverrideProcessor),
    standardOption(FieldConfigProperty.NoValue, stringOverrideProcessor),
    standardOption(FieldConfigProperty.Thresholds, thresholdsOverrideProcessor, {
      mode: ThresholdsMode.Absolute,
      steps: [
        { value: -Infinity, color: 'green' },
        { value: 80, color: 'red' },
      ],
    }),
    standardOption(FieldConfigProperty.Mappings, valueMappingsOverrideProcessor, []),
    standardOption(FieldConfigProperty.Color, identityOverrideProcessor, { mode: FieldColorModeId.Thresholds }),
  ]);
}

/** Grafana's time series defaults (a line, 10% fill, no points), under what the panel sets (stacking). */
const GRAPH_DEFAULTS: GraphFieldConfig = {
  drawStyle: GraphDrawStyle.Line,
  lineWidth: 1,
  fillOpacity: 10,
  gradientMode: GraphGradientMode.None,
  showPoints: VisibilityMode.Never,
  pointSize: 4,
  spanNulls: false,
  axisPlacement: AxisPlacement.Auto,
};

function NoData({ text, width, height }: { text: string; width: number; height: number }) {
  const theme = useTheme2();
  return (
    <div
      style={{
        width,
        height,
        display: 'flex',
        alignItems: 'center',
        justifyContent: 'center',
        color: theme.colors.text.secondary,
        textAlign: 'center',
      }}
    >
      {text}
    </div>
  );
}

function noValueText(props: PanelProps<object>): string {
  return props.fieldConfig.defaults.noValue ?? 'No data';
}

/** Grafana's time series panel defaults for what the panel options leave unset. */
const DEFAULT_LEGEND: VizLegendOptions = {
  displayMode: LegendDisplayMode.List,
  placement: 'bottom',
  showLegend: true,
  calcs: [],
};

interface TimeSeriesOptions {
  legend?: VizLegendOptions;
  tooltip?: { mode: TooltipDisplayMode };
}

function TimeSeriesPanel(props: PanelProps<TimeSeriesOptions>) {
  const custom = (props.fieldConfig.defaults.custom ?? {}) as Partial<GraphFieldConfig>;
  const frames = props.data.series
    .filter((frame) => frame.length > 0)
    .map((frame) => ({
      ...frame,
      fields: frame.fields.map((field) => ({
        ...field,
        config: { ...field.config, custom: { ...GRAPH_DEFAULTS, ...custom, ...field.config.custom } },
      })),
    }));
  if (frames.length === 0) return <NoData text={noValueText(props)} width={props.width} height={props.height} />;
  return (
    <TimeSeries
      frames={frames}
      structureRev={props.data.structureRev}
      timeRange={props.timeRange}
      timeZone={props.timeZone}
      width={props.width}
      height={props.height}
      legend={props.options.legend ?? DEFAULT_LEGEND}
      options={props.options}
    />
  );
}

function fieldDisplays(props: PanelProps<object>, theme: ReturnType<typeof useTheme2>) {
  return getFieldDisplayValues({
    fieldConfig: props.fieldConfig,
    reduceOptions: { calcs: ['lastNotNull'], values: false },
    data: props.data.series,
    theme,
    replaceVariables: props.replaceVariables,
    timeZone: props.timeZone,
  });
}

/** The stat options Kappie's panels may set; unset ones take Grafana's stat panel defaults. */
interface StatOptions {
  graphMode?: BigValueGraphMode;
  colorMode?: BigValueColorMode;
  textMode?: BigValueTextMode;
  justifyMode?: BigValueJustifyMode;
}

function StatPanel(props: PanelProps<StatOptions>) {
  const theme = useTheme2();
  const values = fieldDisplays(props, theme);
  const width = Math.floor(props.width / Math.max(1, values.length));
  return (
    <div style={{ display: 'flex', width: props.width, height: props.height }}>
      {values.map((value, index) => (
        <BigValue
          key={index}
          theme={theme}
          width={width}
          height={props.height}
          value={value.display}
          sparkline={value.sparkline}
          count={values.length}
          colorMode={props.options.colorMode ?? BigValueColorMode.Value}
          graphMode={props.options.graphMode ?? BigValueGraphMode.Area}
          justifyMode={props.options.justifyMode ?? BigValueJustifyMode.Auto}
          textMode={props.options.textMode ?? BigValueTextMode.Auto}
        />
      ))}
    </div>
  );
}

function BarGaugePanel(props: PanelProps) {
  const theme = useTheme2();
  const values = fieldDisplays(props, theme).filter((value) => value.field !== undefined);
  if (props.data.series.length === 0) {
    return <NoData text={noValueText(props)} width={props.width} height={props.height} />;
  }
  const rowHeight = Math.min(40, Math.floor(props.height / Math.max(1, values.length)));
  return (
    <div style={{ width: props.width, height: props.height, overflow: 'hidden' }}>
      {values.map((value, index) => (
        <BarGauge
          key={index}
          theme={theme}
          width={props.width}
          height={rowHeight}
          value={value.display}
          field={value.field}
          orientation={VizOrientation.Horizontal}
          displayMode={BarGaugeDisplayMode.Gradient}
          itemSpacing={4}
        />
      ))}
    </div>
  );
}

function TablePanel(props: PanelProps) {
  const frame = props.data.series[0];
  if (!frame || frame.length === 0) {
    return <NoData text={noValueText(props)} width={props.width} height={props.height} />;
  }
  return <Table data={frame} width={props.width} height={props.height} fieldConfig={props.fieldConfig} />;
}

/** Each panel reads its own options; Grafana's plugin loader hands every panel the options object it stores. */
const PANELS: Record<string, { name: string; component: ComponentType<PanelProps> }> = {
  timeseries: { name: 'Time series', component: TimeSeriesPanel as ComponentType<PanelProps> },
  stat: { name: 'Stat', component: StatPanel as ComponentType<PanelProps> },
  table: { name: 'Table', component: TablePanel },
  bargauge: { name: 'Bar gauge', component: BarGaugePanel },
};

/** The harness's panel plugin for `id`, as Grafana's plugin loader would return Grafana's own. */
export function panelPlugin(id: string): PanelPlugin {
  const panel = PANELS[id];
  if (!panel) throw new Error(`the screenshot harness has no panel plugin "${id}"`);
  const plugin = new PanelPlugin(panel.component).useFieldConfig({
    standardOptions:
      id === 'timeseries'
        ? { [FieldConfigProperty.Color]: { defaultValue: { mode: FieldColorModeId.PaletteClassic } } }
        : {},
  });
  plugin.meta = corePanelMeta(id, panel.name, 'Kappie screenshot harness');
  return plugin;
}
