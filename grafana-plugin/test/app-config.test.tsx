/**
 * The configuration page: the picker offers exactly the Prometheus-type datasources (core and Azure managed), saving
 * posts the choice to Grafana's plugin settings API as jsonData.datasourceUid (the key provisioning sets), and the
 * page says so when no Prometheus datasource exists.
 */
import type { AppPluginMeta } from '@grafana/data';
import { AppPlugin } from '@grafana/data';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import AppConfig from '../src/components/AppConfig';
import type { KappieAppSettings } from '../src/constants';
import { FakePrometheus, datasourceSettings, installFakeBackend, installFakeGrafana } from './fake-grafana';
import { appMeta, ROUTER_FUTURE } from './render-app';

const prometheus = datasourceSettings('prom-1', 'prometheus', { name: 'BYO Prometheus' });
const azure = datasourceSettings('amw-1', 'grafana-azureprometheus-datasource', { name: 'Managed Prometheus west' });
const loki = datasourceSettings('loki-1', 'loki', { name: 'Loki logs' });

function renderConfig(meta: AppPluginMeta<KappieAppSettings>) {
  const plugin = new AppPlugin<KappieAppSettings>();
  plugin.meta = meta;
  // Grafana renders the configuration page inside its router (links on the page need one).
  return render(
    <MemoryRouter initialEntries={['/plugins/kappie-network-app']} future={ROUTER_FUTURE}>
      <AppConfig plugin={plugin} query={{}} />
    </MemoryRouter>,
  );
}

function openPicker() {
  const input = screen.getByRole('combobox');
  fireEvent.focus(input);
  fireEvent.keyDown(input, { key: 'ArrowDown', code: 'ArrowDown', keyCode: 40 });
}

describe('the configuration page', () => {
  it('offers only Prometheus-type datasources and saves the chosen uid in jsonData', async () => {
    installFakeGrafana([prometheus, azure, loki], { [prometheus.uid]: new FakePrometheus(prometheus, {}) });
    const requests = installFakeBackend();
    renderConfig(appMeta({}, false));

    const save = screen.getByTestId('kappie-save-settings');
    expect(save).toBeDisabled();
    openPicker();
    expect(await screen.findByText('BYO Prometheus')).toBeInTheDocument();
    expect(screen.getByText('Managed Prometheus west')).toBeInTheDocument();
    expect(screen.queryByText('Loki logs')).not.toBeInTheDocument();

    fireEvent.click(screen.getByText('Managed Prometheus west'));
    await waitFor(() => expect(save).toBeEnabled());
    expect(save).toHaveTextContent('Enable and save');
    fireEvent.click(save);

    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]).toEqual({
      url: '/api/plugins/kappie-network-app/settings',
      method: 'POST',
      data: { enabled: true, pinned: true, jsonData: { datasourceUid: 'amw-1' } },
    });
  });

  it('shows the provisioned datasource and keeps other jsonData when saving', async () => {
    installFakeGrafana([prometheus, azure], {});
    const requests = installFakeBackend();
    renderConfig(appMeta({ datasourceUid: 'prom-1', ...{ other: 'kept' } } as KappieAppSettings));

    expect(await screen.findByText('BYO Prometheus')).toBeInTheDocument();
    const save = screen.getByTestId('kappie-save-settings');
    expect(save).toHaveTextContent(/^Save$/);
    fireEvent.click(save);
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]?.data).toEqual({
      enabled: true,
      pinned: true,
      jsonData: { datasourceUid: 'prom-1', other: 'kept' },
    });
  });

  it('says when no Prometheus datasource exists', async () => {
    installFakeGrafana([loki], {});
    installFakeBackend();
    renderConfig(appMeta({}, false));
    // findBy waits (inside act) until the page has settled: its icons load asynchronously.
    expect(await screen.findByText('No Prometheus datasource')).toBeInTheDocument();
    expect(screen.getByTestId('kappie-save-settings')).toBeDisabled();
  });
});
