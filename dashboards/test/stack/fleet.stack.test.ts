/**
 * The fleet view on a real Prometheus: a node whose collector vanishes must show as "not reporting", not silently
 * drop out of the lists. The collector of the stack is stopped while Prometheus keeps scraping its address.
 */
import { describeWithStack } from '../../../deploy/test/helpers/describe-stack';
import { startPrometheusStack, type PrometheusStack } from '../../../deploy/test/helpers/prometheus-stack';
import { LABEL } from '@kappie/collector/catalog';
import { QUERIES, substituteVariables, type PanelDefinition, type VariableValues } from '../../src';
import { everyValueOnNode } from './panel-series';

const SCRAPE_INTERVAL_SECONDS = 1;
const describeStack = describeWithStack('fleet stack test');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeStack('fleet view: nodes that stop reporting', () => {
  let stack: PrometheusStack;
  let values: VariableValues;

  beforeAll(async () => {
    stack = await startPrometheusStack({ scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS });
    await stack.waitForScrapes(5);
    // "All" nodes as Grafana lists them over the time range: the stopped node stays in the list.
    values = everyValueOnNode(stack.nodeName, 4 * SCRAPE_INTERVAL_SECONDS);
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  const instant = async (panel: PanelDefinition) => {
    const result = await stack.query(substituteVariables(panel.expr, values));
    if (result.resultType !== 'vector') throw new Error(`${panel.title}: ${result.resultType}`);
    return result.result;
  };

  it('lists no node while the collector reports, and counts 0', async () => {
    expect(await instant(QUERIES.overview.stoppedNodes)).toEqual([]);
    expect((await instant(QUERIES.overview.nodesNotReporting)).map((s) => s.value[1])).toEqual(['0']);
    expect((await instant(QUERIES.overview.nodesReporting)).map((s) => s.value[1])).toEqual(['1']);
  });

  it('shows the node, with when it was last seen, once its collector is gone', async () => {
    const stoppedAt = Date.now();
    await stack.stopCollector();
    // One failed scrape marks the node's series stale; give Prometheus two intervals.
    await sleep(3 * SCRAPE_INTERVAL_SECONDS * 1000);
    expect(await instant(QUERIES.overview.nodesReporting)).toEqual([]);
    expect((await instant(QUERIES.overview.nodesNotReporting)).map((s) => s.value[1])).toEqual(['1']);
    const stopped = await instant(QUERIES.overview.stoppedNodes);
    expect(stopped.map((s) => s.metric[LABEL.nodeName])).toEqual([stack.nodeName]);
    const lastSeenMs = Number(stopped[0]!.value[1]);
    expect(lastSeenMs).toBeLessThanOrEqual(stoppedAt + 1000);
    expect(lastSeenMs).toBeGreaterThan(stoppedAt - 10_000);
  }, 60_000);
});
