/**
 * Every catalog metric through `promtool check metrics`, Prometheus' own linter of metric names, types and help: the
 * only findings are the counter names of AKS Network Observability, which Kappie keeps so that Retina's dashboards
 * and queries work unchanged (README, "Metrics"). A metric of our own that breaks a naming convention fails here.
 */
import { spawnSync } from 'node:child_process';
import {
  DEFAULT_METRIC_PREFIX,
  METRICS,
  metricName,
  RETINA_METRIC_PREFIX,
  type MetricDefinition,
} from '@kappie/collector/catalog';
import { describePromtool, PROMTOOL } from '../helpers/promtool';

/** AKS Network Observability's counter names (Retina's `networkobservability_*`): no `_total`, `_count` in one. */
const AKS_COUNTER_NAMES = [
  'forward_count',
  'forward_bytes',
  'drop_count',
  'drop_bytes',
  'tcp_connection_stats',
  'tcp_flag_counters',
  'ip_connection_stats',
  'udp_connection_stats',
  'interface_stats',
];

/** One family per catalog metric, as the collector writes it: HELP, TYPE and one series with every label. */
function everyFamily(prefix: string): string {
  const definitions: readonly MetricDefinition[] = Object.values(METRICS);
  return definitions
    .map((definition) => {
      const name = metricName(definition, prefix);
      const labels = ['node_name', ...definition.labels].map((label) => `${label}="x"`).join(',');
      return `# HELP ${name} ${definition.help}\n# TYPE ${name} ${definition.type}\n${name}{${labels}} 1\n`;
    })
    .join('');
}

/** promtool's findings, one per line (it exits 3 when it has any, 1 when the text cannot be parsed). */
function lint(text: string): string[] {
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0 && result.status !== 3) {
    throw new Error(`promtool check metrics failed (${result.status}): ${result.stdout}${result.stderr}`);
  }
  return `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
}

describePromtool('metric names against promtool check metrics', () => {
  it.each([DEFAULT_METRIC_PREFIX, RETINA_METRIC_PREFIX])(
    'finds nothing but the AKS counter names (prefix %s)',
    (prefix) => {
      const findings = lint(everyFamily(prefix));
      const named = new Set(findings.map((line) => line.split(' ')[0]!.slice(prefix.length)));
      expect([...named].sort()).toEqual(
        AKS_COUNTER_NAMES.filter((name) => Object.values(METRICS).some((metric) => metric.name === name)).sort(),
      );
      for (const finding of findings)
        expect(finding).toMatch(/should have "_total" suffix|should not have "_count" suffix/);
    },
  );
});
