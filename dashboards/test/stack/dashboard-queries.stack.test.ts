/**
 * Every dashboard query, with its variables substituted as Grafana would, runs against the real Prometheus scraping
 * the real collector (deploy/test/helpers/prometheus-stack.ts).
 *
 * What is required of each query:
 * - always: Prometheus accepts it (valid PromQL; a Windows-only or not-yet-written source must still parse and run);
 * - when the running collector exports samples of every metric the query reads (checked on its /metrics, so the test
 *   tightens by itself as Linux sources land): the query returns data, unless it lists problems and is empty on a
 *   healthy system (`emptyWhenHealthy`: nodes that stopped reporting, packet loss by reason; drop-classes and fleet
 *   stack tests make those non-empty).
 * The variable queries (label_values) must return the collector's own cluster/os/node values.
 */
import { METRICS, metricName, type MetricKey } from '@kappie/collector/catalog';
import { describeWithStack } from '../../../deploy/test/helpers/describe-stack';
import type { PrometheusStack } from '../../../deploy/test/helpers/prometheus-stack';
import {
  allQueries,
  substituteVariables,
  VARIABLE_QUERIES,
  type PanelDefinition,
  type VariableValues,
} from '../../src';
import { everyValueOnNode, panelSeriesCount, startStackWithDrops } from './panel-series';

const SCRAPE_INTERVAL_SECONDS = 1;
const describeStack = describeWithStack('dashboard query stack test');

describeStack('dashboard queries against Prometheus scraping the collector', () => {
  let stack: PrometheusStack;
  let exported: Set<string>;
  let values: VariableValues;

  beforeAll(async () => {
    ({ stack, exported } = await startStackWithDrops(SCRAPE_INTERVAL_SECONDS));
    // Grafana's $__rate_interval is at least four scrape intervals.
    values = everyValueOnNode(stack.nodeName, 4 * SCRAPE_INTERVAL_SECONDS);
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  const isExported = (key: MetricKey) => exported.has(metricName(METRICS[key]));

  const run = (query: PanelDefinition) =>
    panelSeriesCount(stack, query, substituteVariables(query.expr, values), SCRAPE_INTERVAL_SECONDS);

  it('exports kappie_build_info and kappie_source_up, which every dashboard relies on', () => {
    expect(isExported('buildInfo')).toBe(true);
    expect(isExported('sourceUp')).toBe(true);
  });

  it('requires data from every query on metrics the collector exports (at least its own health metrics)', () => {
    const required = allQueries().filter(({ query }) => !query.emptyWhenHealthy && query.metrics.every(isExported));
    const ids = required.map(({ id }) => id);
    expect(ids).toEqual(
      expect.arrayContaining(['overview.nodesReporting', 'overview.sourceHealth', 'overview.collectionDuration']),
    );
  });

  it.each(allQueries().map(({ id, query }) => [id, query] as const))('%s', async (_id, query) => {
    const series = await run(query);
    const needsData = !query.emptyWhenHealthy && query.metrics.every(isExported);
    if (needsData) expect(series).toBeGreaterThan(0);
    else expect(series).toBeGreaterThanOrEqual(0);
  });

  it('fills the cluster, OS and node variables from kappie_build_info (no cluster label: only "All")', async () => {
    const labelValues = async (query: string) => {
      const match = /^label_values\((.*), (\w+)\)$/.exec(query);
      expect(match).not.toBeNull();
      const [, selector, label] = match as unknown as [string, string, string];
      const result = await stack.query(substituteVariables(selector, values));
      const found = result.resultType === 'vector' ? result.result.map((s) => s.metric[label]) : [];
      return [...new Set(found.filter((v): v is string => v !== undefined))];
    };
    expect(await labelValues(VARIABLE_QUERIES.cluster)).toEqual([]);
    expect(await labelValues(VARIABLE_QUERIES.os)).toEqual([process.platform === 'win32' ? 'windows' : 'linux']);
    expect(await labelValues(VARIABLE_QUERIES.node)).toEqual([stack.nodeName]);
  });
});
