/**
 * The screenshot harness's stand-in for Grafana's Prometheus data source (whose queries go through Grafana's Go
 * backend, absent here): it runs each panel query and each variable query on the real Prometheus HTTP API through
 * the harness server's /prometheus proxy, and answers with the frames Grafana's data source gives panels
 * (prometheus-frames.ts). Variables are substituted by Scenes itself (sceneGraph.interpolate), with Grafana's
 * Prometheus regex formatting; `$__rate_interval` and `$__range` as Grafana computes them.
 */
import {
  DataSourceApi,
  type DataQuery,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type MetricFindValue,
  type ScopedVars,
  type TimeRange,
} from '@grafana/data';
import { sceneGraph, type SceneObject } from '@grafana/scenes';
import {
  formatRegexVariable,
  rateInterval,
  tableFrame,
  timeSeriesFrames,
  type PromSample,
  type PromSeries,
} from './prometheus-frames';

interface PromQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: 'table' | 'time_series';
}

type PromAnswer =
  | { resultType: 'matrix'; result: PromSeries[] }
  | { resultType: 'vector'; result: PromSample[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

/** The Scenes object a request or variable query comes from (Scenes puts it in the scoped variables). */
function sceneObjectOf(scopedVars: ScopedVars | undefined): SceneObject | undefined {
  const wrapped = scopedVars?.__sceneObject?.value as { valueOf(): SceneObject } | undefined;
  return wrapped?.valueOf();
}

export class PrometheusHttpDatasource extends DataSourceApi {
  constructor(
    settings: DataSourceInstanceSettings,
    /** Base URL of the Prometheus HTTP API (here the harness server's proxy). */
    private readonly baseUrl: string,
    /** The scrape interval Prometheus uses, for `$__rate_interval`. */
    private readonly scrapeIntervalSeconds: number,
  ) {
    super(settings);
  }

  private interpolate(expr: string, scopedVars: ScopedVars | undefined, range: TimeRange, intervalMs: number): string {
    const rangeSeconds = Math.round((range.to.valueOf() - range.from.valueOf()) / 1000);
    const withMacros = expr
      .replaceAll('$__rate_interval', rateInterval(intervalMs, this.scrapeIntervalSeconds))
      .replaceAll('$__range', `${rangeSeconds}s`);
    const scene = sceneObjectOf(scopedVars);
    if (!scene) throw new Error(`no Scenes object to interpolate ${expr} in`);
    return sceneGraph.interpolate(scene, withMacros, scopedVars, formatRegexVariable);
  }

  private async api(path: string, params: Record<string, string | string[]>): Promise<PromAnswer> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      for (const one of Array.isArray(value) ? value : [value]) search.append(key, one);
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: search.toString(),
    });
    const body = (await response.json()) as { status: string; data: PromAnswer; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus: ${body.error ?? response.statusText}`);
    return body.data;
  }

  async query(request: DataQueryRequest): Promise<DataQueryResponse> {
    const startSec = Math.floor(request.range.from.valueOf() / 1000);
    const endSec = Math.floor(request.range.to.valueOf() / 1000);
    const stepSec = Math.max(this.scrapeIntervalSeconds, Math.ceil(request.intervalMs / 1000));
    const data = [];
    // The app's panels send Prometheus queries: each target carries its PromQL in `expr`.
    for (const target of request.targets as PromQuery[]) {
      if (target.hide) continue;
      const expr = this.interpolate(target.expr, request.scopedVars, request.range, request.intervalMs);
      if (target.instant) {
        const answer = await this.api('/api/v1/query', { query: expr, time: String(endSec) });
        const samples = answer.resultType === 'vector' ? answer.result : [];
        if (target.format === 'table') data.push(tableFrame(samples, target.refId));
        else data.push(...timeSeriesFrames(samples, target.legendFormat, target.refId));
      } else {
        const answer = await this.api('/api/v1/query_range', {
          query: expr,
          start: String(startSec),
          end: String(endSec),
          step: String(stepSec),
        });
        data.push(
          ...timeSeriesFrames(answer.resultType === 'matrix' ? answer.result : [], target.legendFormat, target.refId),
        );
      }
    }
    return { data };
  }

  /** `label_values(selector, label)`, Grafana's Prometheus variable query: the label's values among the series. */
  override async metricFindQuery(
    query: { query: string } | string,
    options?: { scopedVars?: ScopedVars; range?: TimeRange },
  ): Promise<MetricFindValue[]> {
    const text = typeof query === 'string' ? query : query.query;
    const match = /^label_values\((.*),\s*(\w+)\)$/.exec(text.trim());
    if (!match) throw new Error(`not a label_values(selector, label) query: ${text}`);
    const [, rawSelector = '', label = ''] = match;
    const range = options?.range;
    const scene = sceneObjectOf(options?.scopedVars);
    const selector = scene
      ? sceneGraph.interpolate(scene, rawSelector, options?.scopedVars, formatRegexVariable)
      : rawSelector;
    const params: Record<string, string | string[]> = { 'match[]': [selector] };
    if (range) {
      params.start = String(Math.floor(range.from.valueOf() / 1000));
      params.end = String(Math.floor(range.to.valueOf() / 1000));
    }
    const series = (await this.api('/api/v1/series', params)) as unknown as Record<string, string>[];
    const values = [...new Set(series.map((labels) => labels[label]).filter((v): v is string => v !== undefined))];
    return values.sort().map((value) => ({ text: value, value }));
  }

  override async testDatasource() {
    await this.api('/api/v1/query', { query: '1' });
    return { status: 'success', message: 'Prometheus answers' };
  }
}
