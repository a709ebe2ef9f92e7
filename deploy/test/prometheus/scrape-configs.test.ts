/**
 * The BYO Prometheus configurations: promtool accepts them (with their rule files), they scrape in the job the rules
 * expect, and the labels their relabelling writes are catalog labels (or Prometheus' own instance).
 */
import * as path from 'node:path';
import { LABEL } from '@kappie/collector/catalog';
import { resolveConfig } from '@kappie/collector';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parse, stringify } from 'yaml';
import { SCRAPE_JOB } from '../../src/rules';
import { PROMETHEUS_DIR } from '../helpers/paths';
import { describePromtool, promtool } from '../helpers/promtool';

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML */
type Any = any;

const CONFIGS = ['prometheus-static.yml', 'prometheus-kubernetes.yml'];
const COLLECTOR_PORT = resolveConfig({}, {}).listen.port;

function load(file: string): Any {
  return parse(fs.readFileSync(path.join(PROMETHEUS_DIR, file), 'utf8'));
}

/**
 * Debian builds Prometheus without the Kubernetes service discovery (its promtool rejects kubernetes_sd_configs), so
 * promtool checks the Kubernetes configuration with that block swapped for a static target: everything else
 * (relabelling, rule files, intervals) is checked by promtool, and the discovery block by the test below against the
 * fields Prometheus documents for kubernetes_sd_configs.
 */
function withoutKubernetesDiscovery(file: string, dir: string): string {
  const config = load(file);
  for (const job of config.scrape_configs as Any[]) {
    if (job.kubernetes_sd_configs) {
      delete job.kubernetes_sd_configs;
      job.static_configs = [{ targets: [`127.0.0.1:${COLLECTOR_PORT}`] }];
    }
  }
  config.rule_files = (config.rule_files as string[]).map((rules) => path.join(PROMETHEUS_DIR, rules));
  const out = path.join(dir, file);
  fs.writeFileSync(out, stringify(config));
  return out;
}

describePromtool('promtool check config', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-scrape-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(CONFIGS)('%s (and the rule files it loads)', (file) => {
    const output = promtool('check', 'config', withoutKubernetesDiscovery(file, dir));
    expect(output).toMatch(/SUCCESS: .*prometheus.*is valid prometheus config file syntax/);
    expect(output).toMatch(/kappie-recording-rules\.yml\s+SUCCESS/);
    expect(output).toMatch(/kappie-alert-rules\.yml\s+SUCCESS/);
  });
});

describe.each(CONFIGS)('%s', (file) => {
  const config = load(file);
  const job = (config.scrape_configs as Any[]).find((j) => j.job_name === SCRAPE_JOB);

  it('has the kappie job with honor_labels (the collector writes node_name itself)', () => {
    expect(job).toBeDefined();
    expect(job.honor_labels).toBe(true);
  });

  it('relabels only into catalog labels, instance or Prometheus-internal labels', () => {
    const allowed = new Set<string>([...Object.values(LABEL), 'instance']);
    for (const rule of (job.relabel_configs ?? []) as Any[]) {
      if (rule.target_label === undefined) continue;
      const label = rule.target_label as string;
      expect(allowed.has(label) || label.startsWith('__') ? label : `${label} (not a catalog label)`).toBe(label);
    }
  });
});

describe('prometheus-kubernetes.yml', () => {
  const job = (load('prometheus-kubernetes.yml').scrape_configs as Any[]).find((j) => j.job_name === SCRAPE_JOB);
  const relabel = job.relabel_configs as Any[];

  it('discovers the collector pods of the kappie namespace by the DaemonSet labels', () => {
    expect(job.kubernetes_sd_configs).toHaveLength(1);
    const discovery = job.kubernetes_sd_configs[0];
    // Fields Prometheus documents for kubernetes_sd_config (those this file may use).
    expect(Object.keys(discovery).sort()).toEqual(['namespaces', 'role', 'selectors']);
    expect(discovery.role).toBe('pod');
    expect(discovery.namespaces).toEqual({ names: ['kappie'] });
    expect(discovery.selectors).toEqual([
      { role: 'pod', label: 'app.kubernetes.io/name=kappie,app.kubernetes.io/component=collector' },
    ]);
  });

  it('sets node_name and instance from the pod node name, and cluster', () => {
    const from = (label: string) => relabel.find((r) => r.target_label === label);
    expect(from(LABEL.nodeName).source_labels).toEqual(['__meta_kubernetes_pod_node_name']);
    expect(from('instance').source_labels).toEqual(['__meta_kubernetes_pod_node_name']);
    expect(from(LABEL.cluster).replacement).toMatch(/\S/);
  });

  it('keeps only the metrics port, which the DaemonSet exposes on the collector port', () => {
    expect(
      relabel.find((r) => r.action === 'keep' && r.source_labels[0] === '__meta_kubernetes_pod_container_port_name')
        .regex,
    ).toBe('metrics');
    expect(COLLECTOR_PORT).toBe(10093);
  });
});
