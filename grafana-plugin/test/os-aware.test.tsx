/**
 * OS awareness end to end on the TCP page (it has Linux-only panels: remote peers, IP counters, UDP sockets): with
 * only Windows nodes reporting, those panels are replaced by a note that says why, and their queries are not sent;
 * with Linux nodes present they show, titled as Linux-only.
 */
import { LABEL, METRICS, metricName } from '@kappie/collector/catalog';
import { screen, waitFor } from '@testing-library/react';
import { ROUTES } from '../src/constants';
import { isLinuxOnly, queryPlatforms } from '@kappie/dashboards/queries';
import { panelApplies } from '../src/scenes/osAware';
import { FakePrometheus, datasourceSettings, installFakeGrafana, type LabelValues } from './fake-grafana';
import { pagePanels } from './plugin-queries';
import { renderApp } from './render-app';

const tcpPanels = pagePanels('tcp');
const linuxOnly = tcpPanels.filter(isLinuxOnly);
const everywhere = tcpPanels.filter((panel) => !isLinuxOnly(panel));

function setup(osValues: string[]) {
  const labelValues: LabelValues = {
    [LABEL.cluster]: ['aks-west'],
    [LABEL.os]: osValues,
    [LABEL.nodeName]: osValues.map((os) => `${os}-node`),
  };
  const settings = datasourceSettings('prom-main', 'prometheus');
  const prometheus = new FakePrometheus(settings, labelValues);
  installFakeGrafana([settings], { [settings.uid]: prometheus });
  renderApp(ROUTES.tcp, { datasourceUid: 'prom-main' });
  return prometheus;
}

describe('Linux-only panels', () => {
  it('are the panels reading metrics the catalog lists for Linux only', () => {
    expect(linuxOnly.map((panel) => panel.title).sort()).toEqual([
      'IP datagrams',
      'IP errors and discards',
      'IP traffic',
      'TCP sockets by remote address and node',
      'Top 10 remote peers',
      'UDP datagrams',
      'UDP errors',
      'UDP sockets in use',
    ]);
    for (const panel of linuxOnly) expect(queryPlatforms(panel)).toEqual(['linux']);
    expect(METRICS.tcpConnectionRemote.platforms).toEqual(['linux']);
  });

  it('are replaced by an explanation when only Windows nodes are selected, and their queries are not sent', async () => {
    const prometheus = setup(['windows']);
    const notes = await screen.findAllByTestId('kappie-linux-only-note', {}, { timeout: 20_000 });
    expect(notes).toHaveLength(linuxOnly.length);
    expect(await screen.findByText('Top 10 remote peers: Linux nodes only')).toBeInTheDocument();
    expect(notes[0]).toHaveTextContent('The selected nodes run Windows');
    expect(screen.getAllByText(/\/proc\/net\/tcp and \/proc\/net\/tcp6/).length).toBeGreaterThan(0);

    await waitFor(() => expect(prometheus.expressions().length).toBeGreaterThanOrEqual(everywhere.length));
    const sent = prometheus.expressions();
    expect(sent.sort()).toEqual(everywhere.map((panel) => panel.expr).sort());
    for (const panel of linuxOnly) expect(sent).not.toContain(panel.expr);
    expect(sent.join('\n')).not.toContain(metricName(METRICS.tcpConnectionRemote));
  });

  it('show, titled as Linux-only, when Linux nodes are among the selected', async () => {
    const prometheus = setup(['linux', 'windows']);
    await waitFor(() => expect(prometheus.expressions().length).toBe(tcpPanels.length), { timeout: 20_000 });
    expect(await screen.findByText('Top 10 remote peers (Linux nodes)')).toBeInTheDocument();
    expect(screen.queryByTestId('kappie-linux-only-note')).not.toBeInTheDocument();
  });
});

describe('panelApplies', () => {
  it('hides only on a positive "no node of a supported OS"', () => {
    expect(panelApplies(['linux'], ['windows'])).toBe(false);
    expect(panelApplies(['linux'], ['linux', 'windows'])).toBe(true);
    expect(panelApplies(['linux', 'windows'], ['windows'])).toBe(true);
    // Nothing selected or listed yet (no collector scraped, variables loading): keep the panel.
    expect(panelApplies(['linux'], [])).toBe(true);
  });
});
