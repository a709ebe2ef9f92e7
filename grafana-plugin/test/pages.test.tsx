/**
 * Each page rendered through the app's root component with Grafana's runtime faked (no Grafana server can run
 * here): the PromQL every panel sends, spelled out from the catalog independently of the app's query helpers, the
 * datasource it goes to, and the variable queries behind Cluster, OS and Node.
 */
import { LABEL, METRICS, OTHER_REMOTE, metricName, type MetricKey } from '@kappie/collector/catalog';
import { screen, waitFor } from '@testing-library/react';
import { ROUTES } from '../src/constants';
import { LOSS_CLASSES, reasonRegex } from '@kappie/collector/drop-reason-classes';
import { PAGES } from '../src/scenes/pages';
import { pagePanels } from './plugin-queries';
import { FakePrometheus, datasourceSettings, installFakeGrafana, type LabelValues } from './fake-grafana';
import { renderApp } from './render-app';

const m = (key: MetricKey) => metricName(METRICS[key]);
const nodes = `${LABEL.cluster}=~"$cluster", ${LABEL.nodeName}=~"$node"`;

const LABEL_VALUES: LabelValues = {
  [LABEL.cluster]: ['aks-west'],
  [LABEL.os]: ['linux', 'windows'],
  [LABEL.nodeName]: ['node-1', 'win-1'],
  [LABEL.interfaceName]: ['eth0', 'pod_interfaces'],
  [LABEL.reason]: ['NETFILTER_DROP', 'TCP_INVALID_SEQUENCE'],
};

function setup(labelValues: LabelValues = LABEL_VALUES) {
  const settings = datasourceSettings('prom-main', 'prometheus', { name: 'Prometheus' });
  const prometheus = new FakePrometheus(settings, labelValues);
  installFakeGrafana([settings], { [settings.uid]: prometheus });
  return prometheus;
}

async function expressionsOf(prometheus: FakePrometheus, count: number): Promise<string[]> {
  await waitFor(() => expect(prometheus.expressions().length).toBeGreaterThanOrEqual(count), { timeout: 20_000 });
  return prometheus.expressions();
}

const uniqueExpressions = (key: (typeof PAGES)[number]['key']) => new Set(pagePanels(key).map((p) => p.expr)).size;

describe.each(PAGES.map((page) => page.key))('the %s page', (key) => {
  const panels = pagePanels(key);

  it('renders every panel and sends each panel query to the configured datasource', async () => {
    const prometheus = setup();
    renderApp(ROUTES[key], { datasourceUid: 'prom-main' });

    const expressions = await expressionsOf(prometheus, panels.length);
    expect(expressions.sort()).toEqual([...new Set(panels.map((panel) => panel.expr))].sort());
    for (const request of prometheus.dataRequests) {
      for (const target of request.targets) expect(target.datasource).toEqual({ uid: 'prom-main', type: 'prometheus' });
    }
    for (const panel of panels)
      expect(await screen.findAllByText((text) => text.startsWith(panel.title))).not.toHaveLength(0);
  });

  it('fills Cluster, OS and Node from kappie_build_info, each narrowed by the ones before', async () => {
    const prometheus = setup();
    renderApp(ROUTES[key], { datasourceUid: 'prom-main' });
    const buildInfo = m('buildInfo');
    await waitFor(() =>
      expect(prometheus.variableQueries).toEqual(
        expect.arrayContaining([
          `label_values(${buildInfo}, ${LABEL.cluster})`,
          `label_values(${buildInfo}{${LABEL.cluster}=~"$cluster"}, ${LABEL.os})`,
          `label_values(${buildInfo}{${LABEL.cluster}=~"$cluster", ${LABEL.os}=~"$os"}, ${LABEL.nodeName})`,
        ]),
      ),
    );
  });
});

describe('exact PromQL of representative panels', () => {
  it('Drops: packet loss by reason (loss classes only), top reasons with their class over the range', async () => {
    const prometheus = setup();
    renderApp(ROUTES.drops, { datasourceUid: 'prom-main' });
    const expressions = await expressionsOf(prometheus, uniqueExpressions('drops'));
    const reason = `${LABEL.reason}=~"$reason"`;
    const loss = `${LABEL.reason}=~"${reasonRegex(LOSS_CLASSES)}"`;
    expect(expressions).toContain(
      `sum by (${LABEL.reason}) (rate(${m('dropCount')}{${nodes}, ${reason}, ${loss}}[$__rate_interval]))`,
    );
    const top = expressions.find((expr) => expr.startsWith('topk(10, label_replace('));
    expect(top).toContain(
      `sum by (${LABEL.reason}, ${LABEL.direction}) (increase(${m('dropCount')}{${nodes}, ${reason}}[$__range]))`,
    );
    expect(top).toContain('"drop_class", "unclassified", "drop_class", "")');
    expect(expressions).toContain(
      `sum by (${LABEL.reason}) (rate(${m('dropBytes')}{${nodes}, ${reason}}[$__rate_interval]))`,
    );
  });

  it('TCP: states from the catalog, top remote peers without the "other" series', async () => {
    const prometheus = setup();
    renderApp(ROUTES.tcp, { datasourceUid: 'prom-main' });
    const expressions = await expressionsOf(prometheus, uniqueExpressions('tcp'));
    expect(expressions).toContain(`sum by (${LABEL.state}) (${m('tcpState')}{${nodes}})`);
    expect(expressions).toContain(
      `sum by (${LABEL.nodeName}, ${LABEL.state}) (${m('tcpState')}{${nodes}, ${LABEL.state}=~"SYN_SENT|SYN_RECV|FIN_WAIT1|FIN_WAIT2|TIME_WAIT|CLOSE|CLOSE_WAIT|LAST_ACK|CLOSING"})`,
    );
    expect(expressions).toContain(
      `sum by (${LABEL.nodeName}, ${LABEL.flag}) (rate(${m('tcpFlagCounters')}{${nodes}, ${LABEL.flag}=~"SYN|RST"}[$__rate_interval]))`,
    );
    expect(expressions).toContain(
      `topk(10, sum by (${LABEL.address}, ${LABEL.port}) (${m('tcpConnectionRemote')}{${nodes}, ${LABEL.address}!="${OTHER_REMOTE}"}))`,
    );
  });

  it('Interfaces: throughput in bits per second for the chosen interfaces', async () => {
    const prometheus = setup();
    renderApp(ROUTES.interfaces, { datasourceUid: 'prom-main' });
    const expressions = await expressionsOf(prometheus, uniqueExpressions('interfaces'));
    expect(expressions).toContain(
      `8 * sum by (${LABEL.nodeName}, ${LABEL.interfaceName}, ${LABEL.statisticName}) (rate(${m('interfaceStats')}{${nodes}, ${LABEL.interfaceName}=~"$interface", ${LABEL.statisticName}=~"(rx|tx)_bytes"}[$__rate_interval]))`,
    );
    expect(expressions).toContain(
      `8 * sum by (${LABEL.nodeName}, ${LABEL.direction}) (rate(${m('forwardBytes')}{${nodes}}[$__rate_interval]))`,
    );
  });

  it('Overview: nodes reporting narrowed by the OS variable', async () => {
    const prometheus = setup();
    renderApp(ROUTES.overview, { datasourceUid: 'prom-main' });
    const expressions = await expressionsOf(prometheus, uniqueExpressions('overview'));
    expect(expressions).toContain(`count(${m('buildInfo')}{${nodes}, ${LABEL.os}=~"$os"})`);
    expect(expressions).toContain(`count(${m('sourceUp')}{${nodes}} == 0) or vector(0)`);
  });
});

describe('the app root', () => {
  it('opens the Overview page at /a/kappie-network-app', async () => {
    const prometheus = setup();
    renderApp('', { datasourceUid: 'prom-main' });
    await expressionsOf(prometheus, uniqueExpressions('overview'));
    expect(await screen.findByText('Nodes reporting')).toBeInTheDocument();
  });
});
