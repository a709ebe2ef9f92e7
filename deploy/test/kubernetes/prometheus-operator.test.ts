/**
 * The prometheus-operator overlay: a PodMonitor that is the `kappie` job of deploy/prometheus/prometheus-kubernetes.yml
 * in the operator's terms (same pods, port, job name and labels), and a PrometheusRule holding exactly the rule files'
 * groups; both valid against the operator's CRD schemas (@kubernetes-models/prometheus-operator).
 *
 * Not exercised here: a running Prometheus Operator turning them into Prometheus configuration.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { SCRAPE_JOB } from '../../src/rules';
import { typeCheckObjects, validateAgainstSchemas } from '../helpers/kubernetes-schema';
import { renderKustomization, type KubernetesObject } from '../helpers/kustomize';
import { DEPLOY_ROOT, PROMETHEUS_DIR, RULE_FILES } from '../helpers/paths';

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Any = any;

const objects = renderKustomization(path.join(DEPLOY_ROOT, 'kubernetes', 'overlays', 'prometheus-operator'));
const find = (kind: string, name: string): Any => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const podMonitor = find('PodMonitor', 'kappie-collector');
const prometheusRule = find('PrometheusRule', 'kappie');
const kappieJob = (
  parse(fs.readFileSync(path.join(PROMETHEUS_DIR, 'prometheus-kubernetes.yml'), 'utf8')).scrape_configs as Any[]
).find((job) => job.job_name === SCRAPE_JOB);

describe('prometheus-operator overlay', () => {
  it('adds the PodMonitor and the PrometheusRule in the kappie namespace, labelled for kube-prometheus-stack', () => {
    for (const object of [podMonitor, prometheusRule] as KubernetesObject[]) {
      expect(object.metadata.namespace).toBe('kappie');
      expect(object.metadata.labels?.release).toBe('kube-prometheus-stack');
    }
  });

  it('the operator schemas reject a PodMonitor whose interval is not a duration string (the check can fail)', () => {
    const broken = structuredClone(podMonitor);
    broken.spec.podMetricsEndpoints[0].interval = 30;
    expect(validateAgainstSchemas([broken])[0]!.error).toMatch(/interval/);
  });

  it('the operator types reject a misspelt PodMonitor field (the check can fail)', () => {
    const broken = structuredClone(podMonitor);
    broken.spec.podMetricsEndpoints[0].honourLabels = true;
    expect(typeCheckObjects([broken])).toMatch(/honourLabels/);
  }, 120_000);
});

describe('the PodMonitor is the kappie job', () => {
  const endpoint = podMonitor.spec.podMetricsEndpoints[0];

  it('selects the pods of both collector DaemonSets, in its own namespace, on their metrics port', () => {
    expect(podMonitor.spec.podMetricsEndpoints).toHaveLength(1);
    expect(podMonitor.spec.namespaceSelector).toBeUndefined();
    for (const name of ['kappie-collector', 'kappie-collector-windows']) {
      const template = find('DaemonSet', name).spec.template;
      expect(template.metadata.labels).toMatchObject(podMonitor.spec.selector.matchLabels);
      expect((template.spec.containers[0].ports as Any[]).map((p) => p.name)).toContain(endpoint.port);
    }
    expect(kappieJob.relabel_configs).toContainEqual(expect.objectContaining({ action: 'keep', regex: endpoint.port }));
  });

  it('scrapes with the same path, interval, timeout and honor_labels', () => {
    expect(endpoint.path).toBe(kappieJob.metrics_path);
    expect(endpoint.interval).toBe(kappieJob.scrape_interval);
    expect(endpoint.scrapeTimeout).toBe(kappieJob.scrape_timeout);
    expect(endpoint.honorLabels).toBe(kappieJob.honor_labels);
  });

  it('writes the same target labels as the kappie job, and job="kappie"', () => {
    const asOperator = (kappieJob.relabel_configs as Any[])
      .filter((rule) => rule.target_label !== undefined)
      .map((rule) => ({
        ...(rule.source_labels ? { sourceLabels: rule.source_labels } : {}),
        targetLabel: rule.target_label,
        ...(rule.replacement !== undefined ? { replacement: rule.replacement } : {}),
      }));
    expect(endpoint.relabelings).toEqual([{ targetLabel: 'job', replacement: SCRAPE_JOB }, ...asOperator]);
  });
});

describe('the PrometheusRule', () => {
  it('holds exactly the groups of the rule files', () => {
    const groups = RULE_FILES.flatMap((file) => parse(fs.readFileSync(file, 'utf8')).groups as unknown[]);
    expect(prometheusRule.spec.groups).toEqual(groups);
  });
});
