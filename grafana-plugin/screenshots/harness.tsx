/**
 * The browser page the screenshots are taken of: the app's own root component (src/components/App.tsx, its Scenes
 * pages and panels from the shared panel set) mounted the way Grafana mounts an app, under /a/<plugin id>/, with
 * Grafana's runtime services installed through @grafana/runtime's setters: a Prometheus data source that queries the
 * real Prometheus (prometheus-http-datasource.ts), Grafana's runRequest reduced to calling it, panel plugins drawn
 * with @grafana/ui (panel-plugins.tsx), and a page frame with the page's title. The URL's query string says which
 * page (`?page=drops`) and the Prometheus scrape interval (`&scrape=5`).
 */
import {
  EventBusSrv,
  LoadingState,
  PluginType,
  createTheme,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceApi,
  type PanelData,
} from '@grafana/data';
import {
  LocationServiceProvider,
  locationService,
  setAppEvents,
  setDataSourceSrv,
  setPluginImportUtils,
  setRunRequest,
} from '@grafana/runtime';
import type { PluginPageProps } from '@grafana/runtime';
import { ThemeContext } from '@grafana/data';
import { GlobalStyles } from '@grafana/ui';
import { setPluginPage } from 'grafana-runtime-plugin-page';
import { createRoot } from 'react-dom/client';
import { from, map, type Observable } from 'rxjs';
import { PLUGIN_BASE_URL } from '../src/constants';
import { FakeDataSourceSrv, datasourceSettings } from '../test/fake-grafana';
import { AppAtUrl, appMeta } from '../test/render-app';
import { panelPlugin, registerStandardFieldOptions } from './panel-plugins';
import { PrometheusHttpDatasource } from './prometheus-http-datasource';

const DATASOURCE_UID = 'kappie-prometheus';
const theme = createTheme({ colors: { mode: 'dark' } });

/** Grafana's page frame, reduced to the page title and subtitle Grafana shows above an app page. */
function PageFrame({ pageNav, children }: PluginPageProps) {
  return (
    <div style={{ padding: theme.spacing(2, 3) }}>
      {pageNav && (
        <header style={{ marginBottom: theme.spacing(2) }}>
          <h1 style={{ ...theme.typography.h2, margin: 0 }}>{pageNav.text}</h1>
          {pageNav.subTitle && <div style={{ color: theme.colors.text.secondary }}>{pageNav.subTitle}</div>}
        </header>
      )}
      {children}
    </div>
  );
}

function install(scrapeIntervalSeconds: number): void {
  registerStandardFieldOptions();
  // Panels share hover events on Grafana's application event bus (the time series subscribe at mount).
  setAppEvents(new EventBusSrv());
  const settings = datasourceSettings(DATASOURCE_UID, 'prometheus', { name: 'Prometheus', isDefault: true });
  const datasource = new PrometheusHttpDatasource(settings, '/prometheus', scrapeIntervalSeconds);
  setDataSourceSrv(new FakeDataSourceSrv([settings], { [DATASOURCE_UID]: datasource }));
  setRunRequest((ds: DataSourceApi, request: DataQueryRequest): Observable<PanelData> =>
    from(ds.query(request) as Promise<DataQueryResponse>).pipe(
      map((response) => ({ state: LoadingState.Done, series: response.data, timeRange: request.range, request })),
    ),
  );
  setPluginImportUtils({
    importPanelPlugin: async (id: string) => panelPlugin(id),
    getPanelPluginFromCache: () => undefined,
  });
  setPluginPage(PageFrame);
}

/**
 * Counts the Prometheus requests in flight (window.kappiePendingQueries) and those answered
 * (window.kappieAnsweredQueries), so the screenshot script knows when every panel has its data.
 */
function countQueries(): void {
  const state = window as unknown as { kappiePendingQueries: number; kappieAnsweredQueries: number };
  state.kappiePendingQueries = 0;
  state.kappieAnsweredQueries = 0;
  const fetchOnce = window.fetch.bind(window);
  window.fetch = async (...args: Parameters<typeof fetch>) => {
    state.kappiePendingQueries += 1;
    try {
      return await fetchOnce(...args);
    } finally {
      state.kappiePendingQueries -= 1;
      state.kappieAnsweredQueries += 1;
    }
  };
}

countQueries();
const params = new URLSearchParams(window.location.search);
install(Number(params.get('scrape') ?? '15'));
const url = `${PLUGIN_BASE_URL}/${params.get('page') ?? 'overview'}?from=${params.get('from') ?? 'now-1h'}&to=now`;
locationService.push(url);
const meta = { ...appMeta({ datasourceUid: DATASOURCE_UID }), type: PluginType.app };

createRoot(document.getElementById('root') as HTMLElement).render(
  <ThemeContext.Provider value={theme}>
    <GlobalStyles />
    <LocationServiceProvider service={locationService}>
      <AppAtUrl url={url} meta={meta} />
    </LocationServiceProvider>
  </ThemeContext.Provider>,
);
