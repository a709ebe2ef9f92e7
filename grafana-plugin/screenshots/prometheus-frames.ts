/**
 * Prometheus HTTP API answers (/api/v1/query_range and /api/v1/query, https://prometheus.io/docs/prometheus/latest/querying/api/)
 * turned into the data frames Grafana's Prometheus data source gives panels, for the screenshot harness (which has
 * no Grafana server, so no Prometheus data source backend): one frame per series with a Time field and a Value field
 * carrying the series labels and the legend as display name (format "time_series"), or one frame with Time, one
 * column per label (sorted) and Value (format "table"). Pure functions, no I/O.
 */
import { FieldType, createDataFrame, type DataFrame } from '@grafana/data';

/** One series of a matrix answer: its labels and [unix seconds, value text] samples. */
export interface PromSeries {
  readonly metric: Record<string, string>;
  readonly values: ReadonlyArray<readonly [number, string]>;
}

/** One sample of a vector answer. */
export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: readonly [number, string];
}

/**
 * The legend of a series: Grafana's `{{label}}` substitution (a missing label gives an empty string); without a
 * legend, the series in PromQL notation (`name{a="b"}`), as Grafana's Prometheus data source names it.
 */
export function seriesName(legendFormat: string | undefined, labels: Record<string, string>): string {
  if (legendFormat && legendFormat !== '__auto') {
    return legendFormat.replace(/\{\{\s*(.+?)\s*\}\}/g, (_match, name: string) => labels[name] ?? '');
  }
  const { __name__: name = '', ...rest } = labels;
  const pairs = Object.entries(rest)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}="${value}"`);
  return pairs.length > 0 ? `${name}{${pairs.join(', ')}}` : name || 'Value';
}

/** Prometheus writes sample values as text, with NaN and ±Inf spelled out. */
export function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** A matrix or vector answer as time-series frames: one per series. */
export function timeSeriesFrames(
  series: ReadonlyArray<PromSeries | PromSample>,
  legendFormat: string | undefined,
  refId: string,
): DataFrame[] {
  return series.map((one) => {
    const samples = 'values' in one ? one.values : [one.value];
    const { __name__: _name, ...labels } = one.metric;
    const name = seriesName(legendFormat, one.metric);
    return createDataFrame({
      refId,
      name,
      fields: [
        { name: 'Time', type: FieldType.time, values: samples.map(([seconds]) => seconds * 1000), config: {} },
        {
          name: 'Value',
          type: FieldType.number,
          labels,
          values: samples.map(([, value]) => sampleValue(value)),
          config: { displayNameFromDS: name },
        },
      ],
    });
  });
}

/** A vector answer as one table frame: Time, the labels (sorted, `__name__` left out) and Value. */
export function tableFrame(samples: readonly PromSample[], refId: string): DataFrame {
  const labelNames = [...new Set(samples.flatMap((sample) => Object.keys(sample.metric)))]
    .filter((name) => name !== '__name__')
    .sort();
  return createDataFrame({
    refId,
    fields: [
      { name: 'Time', type: FieldType.time, values: samples.map((s) => s.value[0] * 1000) },
      ...labelNames.map((label) => ({
        name: label,
        type: FieldType.string,
        values: samples.map((s) => s.metric[label] ?? ''),
      })),
      { name: 'Value', type: FieldType.number, values: samples.map((s) => sampleValue(s.value[1])) },
    ],
  });
}

/**
 * Grafana's `$__rate_interval`: max(`$__interval` + scrape interval, 4 × scrape interval), in whole seconds
 * (Grafana's documentation, "Prometheus template variables").
 */
export function rateInterval(intervalMs: number, scrapeIntervalSeconds: number): string {
  const seconds = Math.max(Math.ceil(intervalMs / 1000) + scrapeIntervalSeconds, 4 * scrapeIntervalSeconds);
  return `${seconds}s`;
}

/** A regex-safe PromQL string for one variable value (Grafana's Prometheus regex escaping of multi-value variables). */
export function escapeRegexValue(value: string): string {
  // A regex metacharacter becomes `\\x` inside the PromQL string (a backslash for the regex, escaped for the string).
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

/** A variable's value as Grafana's Prometheus data source formats it inside a regex matcher. */
export function formatRegexVariable(value: unknown): string {
  if (Array.isArray(value)) {
    const parts = value.map((one) => escapeRegexValue(String(one)));
    return parts.length === 1 ? (parts[0] as string) : `(${parts.join('|')})`;
  }
  return escapeRegexValue(String(value));
}
