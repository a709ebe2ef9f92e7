/**
 * A fake of the Grafana services the app calls at run time, installed through @grafana/runtime's own setters (the
 * way Grafana itself installs the real ones at start). A fake only because no Grafana server can run here: it
 * records what the app asks for (data queries, variable queries, settings saved) and answers with the label values
 * a test gives it. The datasource instance settings follow the shape /api/frontend/settings returns.
 */
import {
  DataSourceApi,
  LoadingState,
  PanelPlugin,
  PluginType,
  type DataQuery,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type MetricFindValue,
  type PanelData,
  type PanelPluginMeta,
  type PluginMetaInfo,
} from '@grafana/data';
import {
  setBackendSrv,
  setDataSourceSrv,
  setPluginImportUtils,
  setRunRequest,
  type BackendSrv,
  type BackendSrvRequest,
  type DataSourceSrv,
  type FetchResponse,
  type GetDataSourceListFilters,
} from '@grafana/runtime';
import type { DataSourceRef } from '@grafana/schema';
import { Observable, from, map, of } from 'rxjs';

/** The `info` Grafana's plugin meta types require: empty but for the author and the version. */
export function pluginInfo(author: string, version = ''): PluginMetaInfo {
  return {
    author: { name: author },
    description: '',
    links: [],
    logos: { small: '', large: '' },
    screenshots: [],
    updated: '',
    version,
  };
}

/** The meta of core panel plugin `id` as Grafana's panel loader gives it (module `core:plugin/<id>`). */
export function corePanelMeta(id: string, name: string, author: string, version = ''): PanelPluginMeta {
  return {
    id,
    name,
    type: PluginType.panel,
    module: `core:plugin/${id}`,
    baseUrl: `public/app/plugins/panel/${id}`,
    sort: 0,
    info: pluginInfo(author, version),
  };
}

export interface PromQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
}

export function datasourceSettings(
  uid: string,
  type: string,
  options: { name?: string; isDefault?: boolean } = {},
): DataSourceInstanceSettings {
  return {
    id: uid.length,
    uid,
    type,
    name: options.name ?? uid,
    isDefault: options.isDefault ?? false,
    access: 'proxy',
    readOnly: false,
    jsonData: {},
    meta: {
      id: type,
      name: type,
      type: PluginType.datasource,
      module: `core:plugin/${type}`,
      baseUrl: `public/plugins/${type}`,
      metrics: true,
      info: pluginInfo('Grafana Labs'),
    },
  } as DataSourceInstanceSettings;
}

/** Label values per variable query: the first label_values(...) argument's label decides the answer. */
export type LabelValues = Record<string, string[]>;

/** A Prometheus-type datasource that records every query and answers variable queries from `labelValues`. */
export class FakePrometheus extends DataSourceApi {
  readonly dataRequests: DataQueryRequest<PromQuery>[] = [];
  readonly variableQueries: string[] = [];

  constructor(
    settings: DataSourceInstanceSettings,
    private readonly labelValues: LabelValues,
  ) {
    super(settings);
  }

  query(request: DataQueryRequest): Observable<DataQueryResponse> {
    // The app's panels send Prometheus queries: each target carries its PromQL in `expr`.
    this.dataRequests.push(request as DataQueryRequest<PromQuery>);
    return of({ data: [] });
  }

  override async metricFindQuery(query: { query: string } | string): Promise<MetricFindValue[]> {
    const text = typeof query === 'string' ? query : query.query;
    this.variableQueries.push(text);
    const label = /,\s*(\w+)\)\s*$/.exec(text)?.[1];
    return (label ? (this.labelValues[label] ?? []) : []).map((value) => ({ text: value, value }));
  }

  override async testDatasource() {
    return { status: 'success', message: 'fake' };
  }

  /** Every PromQL expression the panels sent, once each. */
  expressions(): string[] {
    return [...new Set(this.dataRequests.flatMap((request) => request.targets.map((target) => target.expr)))];
  }
}

export class FakeDataSourceSrv implements DataSourceSrv {
  constructor(
    readonly settings: DataSourceInstanceSettings[],
    readonly instances: Record<string, DataSourceApi> = {},
  ) {}

  private find(ref?: DataSourceRef | string | null): DataSourceInstanceSettings | undefined {
    const key = typeof ref === 'string' ? ref : ref?.uid;
    if (!key) return this.settings.find((ds) => ds.isDefault);
    return this.settings.find((ds) => ds.uid === key || ds.name === key);
  }

  async get(ref?: DataSourceRef | string | null): Promise<DataSourceApi> {
    const settings = this.find(ref);
    const instance = settings && this.instances[settings.uid];
    if (!instance) throw new Error(`Datasource ${JSON.stringify(ref)} was not found`);
    return instance;
  }

  /** Grafana's filter semantics for the filters the app and DataSourcePicker pass: filter, type, metrics. */
  getList(filters: GetDataSourceListFilters = {}): DataSourceInstanceSettings[] {
    return this.settings.filter((ds) => {
      if (filters.metrics && !ds.meta.metrics) return false;
      if (filters.filter && !filters.filter(ds)) return false;
      if (filters.type && !(Array.isArray(filters.type) ? filters.type : [filters.type]).includes(ds.type))
        return false;
      return true;
    });
  }

  getInstanceSettings(ref?: DataSourceRef | string | null): DataSourceInstanceSettings | undefined {
    return this.find(ref);
  }

  async reload(): Promise<void> {}

  registerRuntimeDataSource(): void {
    throw new Error('not used by the app');
  }
}

export interface RecordedRequest {
  readonly url: string;
  readonly method?: string;
  readonly data: unknown;
}

/** Records backend calls (the settings the config page saves) and answers 200 with an empty object. */
export function installFakeBackend(): RecordedRequest[] {
  const requests: RecordedRequest[] = [];
  const fetch = <T>(options: BackendSrvRequest): Observable<FetchResponse<T>> => {
    requests.push({ url: options.url, method: options.method, data: options.data });
    return of({
      data: {} as T,
      status: 200,
      statusText: 'OK',
      ok: true,
      headers: new Headers(),
      redirected: false,
      type: 'basic',
      url: options.url,
      config: options,
    });
  };
  setBackendSrv({ fetch } as unknown as BackendSrv);
  return requests;
}

/**
 * Installs the datasources, the query runner (straight to the datasource, as Grafana's runRequest does without
 * its caching and error shaping) and a panel plugin loader that gives every panel an empty plugin.
 */
export function installFakeGrafana(settings: DataSourceInstanceSettings[], instances: Record<string, DataSourceApi>) {
  setDataSourceSrv(new FakeDataSourceSrv(settings, instances));
  setRunRequest((datasource: DataSourceApi, request: DataQueryRequest): Observable<PanelData> =>
    from(datasource.query(request) as Observable<DataQueryResponse>).pipe(
      map((response) => ({
        state: LoadingState.Done,
        series: response.data,
        timeRange: request.range,
        request,
      })),
    ),
  );
  // Grafana allows setting the plugin loader once per page load (here: once per test file).
  if (!panelPluginLoaderInstalled) {
    setPluginImportUtils({
      importPanelPlugin: async (id: string) => {
        const plugin = new PanelPlugin(() => null);
        plugin.meta = corePanelMeta(id, id, 'Grafana Labs', 'fake');
        return plugin;
      },
      getPanelPluginFromCache: () => undefined,
    });
    panelPluginLoaderInstalled = true;
  }
}

let panelPluginLoaderInstalled = false;
