/**
 * Choosing the datasource: the configured one, a fallback that says so, and a clear message when Grafana has no
 * datasource of an accepted Prometheus type (core Prometheus or Azure Monitor managed service for Prometheus).
 */
import { screen, waitFor } from '@testing-library/react';
import { ROUTES } from '../src/constants';
import { chooseDatasource } from '../src/datasource';
import { FakePrometheus, datasourceSettings, installFakeGrafana } from './fake-grafana';
import { renderApp } from './render-app';

const loki = datasourceSettings('loki-1', 'loki', { isDefault: true });
const prometheus = datasourceSettings('prom-1', 'prometheus', { name: 'BYO Prometheus' });
const azure = datasourceSettings('amw-1', 'grafana-azureprometheus-datasource', { name: 'Managed_Prometheus_west' });

describe('chooseDatasource', () => {
  it('takes the configured datasource', () => {
    expect(chooseDatasource('amw-1', [prometheus, azure])).toEqual({ kind: 'configured', datasource: azure });
  });
  it('falls back to the default, then the first, and reports a configured uid that is gone', () => {
    const defaultAzure = { ...azure, isDefault: true };
    expect(chooseDatasource(undefined, [prometheus, defaultAzure])).toEqual({
      kind: 'fallback',
      datasource: defaultAzure,
      missingUid: undefined,
    });
    expect(chooseDatasource('deleted', [prometheus, azure])).toEqual({
      kind: 'fallback',
      datasource: prometheus,
      missingUid: 'deleted',
    });
  });
  it('says none when there is no Prometheus datasource', () => {
    expect(chooseDatasource('prom-1', [])).toEqual({ kind: 'none', missingUid: 'prom-1' });
  });
});

describe('the app with', () => {
  it('no Prometheus datasource shows a clear message and queries nothing', async () => {
    const lokiInstance = new FakePrometheus(loki, {});
    installFakeGrafana([loki], { [loki.uid]: lokiInstance });
    renderApp(ROUTES.overview, {});
    expect(await screen.findByText('No Prometheus datasource')).toBeInTheDocument();
    expect(screen.getByTestId('kappie-no-datasource')).toHaveTextContent(
      'no datasource of type "prometheus" or "grafana-azureprometheus-datasource"',
    );
    expect(screen.getByText('Connections → Data sources')).toHaveAttribute('href', '/connections/datasources/new');
    expect(lokiInstance.dataRequests).toHaveLength(0);
    expect(lokiInstance.variableQueries).toHaveLength(0);
  });

  it('only an Azure managed Prometheus datasource and nothing configured uses it and says so', async () => {
    const azureInstance = new FakePrometheus(azure, {});
    installFakeGrafana([loki, azure], { [azure.uid]: azureInstance });
    renderApp(ROUTES.drops, {});
    expect(await screen.findByTestId('kappie-datasource-fallback')).toHaveTextContent(
      'No datasource is chosen on the configuration page; showing "Managed_Prometheus_west".',
    );
    await waitFor(() => expect(azureInstance.dataRequests.length).toBeGreaterThan(0), { timeout: 20_000 });
    expect(azureInstance.dataRequests[0]?.targets[0]?.datasource).toEqual({
      uid: 'amw-1',
      type: 'grafana-azureprometheus-datasource',
    });
  });

  it('a configured datasource that was deleted names it and falls back', async () => {
    const instance = new FakePrometheus(prometheus, {});
    installFakeGrafana([prometheus], { [prometheus.uid]: instance });
    renderApp(ROUTES.tcp, { datasourceUid: 'gone' });
    expect(await screen.findByTestId('kappie-datasource-fallback')).toHaveTextContent(
      'The configured datasource (uid "gone") does not exist; showing "BYO Prometheus".',
    );
  });
});
