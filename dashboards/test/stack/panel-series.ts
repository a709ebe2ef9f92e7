/**
 * What the stack tests of the dashboards and of the app pages ask of Prometheus: a stack with drops to show, the
 * variables with every value selected on the stack's one node, and how many series a panel's query returns.
 */
import {
  escapePromRegex,
  exportedMetricNames,
  startPrometheusStack,
  type PrometheusStack,
} from '../../../deploy/test/helpers/prometheus-stack';
import type { PanelDefinition } from '../../src/queries';
import type { VariableValues } from '../../src/variables';
import { sendDatagramsToClosedPort } from './traffic';

/**
 * The stack, scraping every `scrapeIntervalSeconds`, once it has scraped a few drops of our own (NO_SOCKET, on
 * loopback: the drop panels have a series whatever else the host does) six times (rate() over $__rate_interval needs
 * at least two samples inside the window), and the names of the metrics its collector exports.
 */
export async function startStackWithDrops(
  scrapeIntervalSeconds: number,
): Promise<{ stack: PrometheusStack; exported: Set<string> }> {
  const stack = await startPrometheusStack({ scrapeIntervalSeconds });
  try {
    await sendDatagramsToClosedPort(5);
    await stack.waitForScrapes(6);
    return { stack, exported: exportedMetricNames(await stack.collectorMetrics()) };
  } catch (error) {
    await stack.close();
    throw error;
  }
}

/**
 * The variables as Grafana fills them with "All" selected and the stack's node chosen: `rateIntervalSeconds` is
 * $__rate_interval (Grafana's is at least four scrape intervals), $__range one minute, `os` ".*" unless told.
 */
export function everyValueOnNode(nodeName: string, rateIntervalSeconds: number, os = '.*'): VariableValues {
  return {
    cluster: '.*',
    os,
    node: escapePromRegex(nodeName),
    interface: '.*',
    reason: '.*',
    rateInterval: `${rateIntervalSeconds}s`,
    range: '1m',
  };
}

/**
 * How many series the query `expr` of `panel` returns: an instant query's vector length (1 for a scalar or
 * string), or the series of a range query over the last 30 s at `stepSeconds` that have a sample.
 */
export async function panelSeriesCount(
  stack: PrometheusStack,
  panel: Pick<PanelDefinition, 'kind'>,
  expr: string,
  stepSeconds: number,
): Promise<number> {
  if (panel.kind === 'instant') {
    const result = await stack.query(expr);
    return Array.isArray(result.result) && result.resultType !== 'scalar' && result.resultType !== 'string'
      ? result.result.length
      : 1;
  }
  const end = Math.floor(Date.now() / 1000);
  const matrix = await stack.queryRange(expr, end - 30, end, stepSeconds);
  return matrix.result.filter((series) => series.values.length > 0).length;
}
