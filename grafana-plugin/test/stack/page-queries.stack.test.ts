/**
 * @jest-environment node
 *
 * Every query of the app's pages, with its variables substituted as Grafana would, runs against the real Prometheus
 * scraping the real collector (deploy/test/helpers/prometheus-stack.ts): Prometheus must accept every query, and a
 * query must return data when Prometheus holds enough samples of every metric it reads (so the test tightens by
 * itself as sources land; panels listing problems, empty on a healthy system, are only run). "Enough" is judged in Prometheus, not on the collector's /metrics: a series that appears
 * mid-test (a new drop reason) is on /metrics before rate() has two samples of it. The variable selectors must find
 * the collector.
 */
import { METRICS, metricName, type MetricKey } from '@kappie/collector/catalog';
import type { VariableValues } from '@kappie/dashboards/variables';
import { describeWithStack } from '../../../deploy/test/helpers/describe-stack';
import type { PrometheusStack } from '../../../deploy/test/helpers/prometheus-stack';
import type { PanelDefinition } from '@kappie/dashboards/queries';
import { everyValueOnNode, panelSeriesCount, startStackWithDrops } from '../../../dashboards/test/stack/panel-series';
import { allPanels, substitute, variableSelectors } from '../plugin-queries';

const SCRAPE_INTERVAL_SECONDS = 1;
const RATE_WINDOW_SECONDS = 4 * SCRAPE_INTERVAL_SECONDS;
const RATE_SAMPLES = 3;
const describeStack = describeWithStack('plugin page query stack test');

describeStack('app page queries against Prometheus scraping the collector', () => {
  let stack: PrometheusStack;
  let exported: Set<string>;
  let values: VariableValues;

  beforeAll(async () => {
    ({ stack, exported } = await startStackWithDrops(SCRAPE_INTERVAL_SECONDS));
    // Metrics with at least RATE_SAMPLES samples of one series in the last RATE_WINDOW_SECONDS: rate() has data for them.
    for (const name of [...exported]) {
      const result = await stack.query(`max(count_over_time(${name}[${RATE_WINDOW_SECONDS}s])) >= ${RATE_SAMPLES}`);
      if (!(Array.isArray(result.result) && result.result.length > 0)) exported.delete(name);
    }
    values = everyValueOnNode(stack.nodeName, RATE_WINDOW_SECONDS, 'linux');
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  const isExported = (key: MetricKey) => exported.has(metricName(METRICS[key]));

  const seriesCount = (panel: PanelDefinition) =>
    panelSeriesCount(stack, panel, substitute(panel.expr, values), SCRAPE_INTERVAL_SECONDS);

  it('returns data for every panel whose metrics the collector exports, and Prometheus accepts all the others', async () => {
    const withData: string[] = [];
    for (const { id, panel } of allPanels()) {
      const count = await seriesCount(panel);
      if (!panel.emptyWhenHealthy && panel.metrics.every(isExported)) {
        expect({ id, count: count > 0 }).toEqual({ id, count: true });
        withData.push(id);
      }
    }
    // The collector always exports its own health: the Overview panels on it must have data.
    expect(withData).toEqual(expect.arrayContaining(['overview.Nodes reporting', 'overview.Collector health']));
  });

  it('finds the collector through the Cluster, OS and Node variable selectors', async () => {
    for (const { name, selector } of variableSelectors()) {
      const result = await stack.query(substitute(selector, values));
      if (name === 'interface' && !isExported('interfaceStats')) continue;
      if (name === 'reason' && !isExported('dropCount')) continue;
      expect({ name, series: Array.isArray(result.result) && result.result.length > 0 }).toEqual({
        name,
        series: true,
      });
    }
  });
});
