/**
 * The Azure Monitor (ama-metrics) node scrape jobs: valid Prometheus configuration once ama-metrics has substituted
 * $NODE_IP and $NODE_NAME, scraping the collector's port with instance = node name; and a real Prometheus running
 * that configuration against the real collector gets the series with instance and node_name = the node name.
 * What is not exercised here: ama-metrics itself (its OpenTelemetry-based scraper and the `cluster` label it adds).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LABEL, METRICS, metricName } from '@kappie/collector/catalog';
import { resolveConfig } from '@kappie/collector';
import { parse } from 'yaml';
import { createSources } from '../../../collector/src/sources';
import { SCRAPE_JOB } from '../../src/rules';
import { readYamlObjects } from '../helpers/kustomize';
import { DEPLOY_ROOT } from '../helpers/paths';
import { describePromtool, promtool } from '../helpers/promtool';
import { prometheusStackUnavailable, startPrometheusStack } from '../helpers/prometheus-stack';

const AZURE_DIR = path.join(DEPLOY_ROOT, 'azure');
const CONFIG_MAPS = ['ama-metrics-prometheus-config-node.yaml', 'ama-metrics-prometheus-config-node-windows.yaml'];
const COLLECTOR_PORT = resolveConfig({}, {}).listen.port;

function embeddedConfig(file: string): string {
  const [configMap] = readYamlObjects(path.join(AZURE_DIR, file)) as { data?: Record<string, string> }[];
  const config = configMap?.data?.['prometheus-config'];
  if (!config) throw new Error(`${file} has no data.prometheus-config`);
  return config;
}

/** What ama-metrics does before handing the configuration to its scraper. */
function substitute(config: string, nodeIp: string, nodeName: string): string {
  return config.replaceAll('$NODE_IP', nodeIp).replaceAll('$NODE_NAME', nodeName);
}

describe.each(CONFIG_MAPS)('%s', (file) => {
  const config = embeddedConfig(file);

  it('scrapes $NODE_IP on the collector port in the kappie job, instance and node_name = $NODE_NAME', () => {
    const parsed = parse(config) as { scrape_configs: Record<string, Any>[] };
    expect(parsed.scrape_configs).toHaveLength(1);
    const job = parsed.scrape_configs[0]!;
    expect(job.job_name).toBe(SCRAPE_JOB);
    expect(job.honor_labels).toBe(true);
    expect(job.static_configs).toEqual([{ targets: [`$NODE_IP:${COLLECTOR_PORT}`] }]);
    const targets = (job.relabel_configs as Any[]).map((r) => [r.target_label, r.replacement]);
    expect(targets).toEqual(
      expect.arrayContaining([
        ['instance', '$NODE_NAME'],
        [LABEL.nodeName, '$NODE_NAME'],
      ]),
    );
  });
});

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML */
type Any = any;

describePromtool('promtool check config (placeholders substituted)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-azure-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(CONFIG_MAPS)('%s', (file) => {
    const configFile = path.join(dir, `${file}.prometheus.yml`);
    fs.writeFileSync(configFile, substitute(embeddedConfig(file), '10.224.0.4', 'aks-nodepool1-12345678-vmss000000'));
    expect(promtool('check', 'config', configFile)).toMatch(/SUCCESS/);
  });
});

function lightSource(): string {
  const sockstat = createSources().find((source) => source.platforms.includes('linux') && source.name === 'sockstat');
  return (sockstat ?? createSources().find((source) => source.platforms.includes('linux'))!).name;
}

const unavailable = prometheusStackUnavailable();
(unavailable ? describe.skip : describe)(
  'the Linux node job run by a real Prometheus against the real collector',
  () => {
    it('stores the collector series with instance and node_name = the node name', async () => {
      const nodeName = 'aks-nodepool1-12345678-vmss000000';
      const stack = await startPrometheusStack({
        nodeName,
        // One light source is enough to check the labels; the full source set is the stack test's job.
        collectorArgs: ['--sources', lightSource()],
        // The job as ama-metrics would run it on this node, the collector's test port in place of the fixed one.
        prometheusConfig: (target) =>
          substitute(embeddedConfig(CONFIG_MAPS[0]!), '127.0.0.1', nodeName).replace(
            `127.0.0.1:${COLLECTOR_PORT}`,
            target,
          ),
      });
      try {
        const up = await stack.query(`up{job="${SCRAPE_JOB}"}`);
        expect(up.resultType === 'vector' && up.result.map((s) => s.metric)).toEqual([
          { __name__: 'up', job: SCRAPE_JOB, instance: nodeName, [LABEL.nodeName]: nodeName },
        ]);
        const buildInfo = await stack.query(metricName(METRICS.buildInfo));
        expect(buildInfo.resultType === 'vector' && buildInfo.result[0]?.metric).toMatchObject({
          instance: nodeName,
          [LABEL.nodeName]: nodeName,
        });
      } finally {
        await stack.close();
      }
    }, 120_000);
  },
);
