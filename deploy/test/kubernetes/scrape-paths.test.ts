/**
 * No double scraping: for every documented way of collecting the metrics, the collector on each node (Linux and
 * Windows) is scraped by exactly one job. Each overlay is rendered with `kubectl kustomize`; its collector pods are
 * put on a Linux and a Windows node; then
 *   - the documented scrape jobs (deploy/prometheus/prometheus-kubernetes.yml; the ama-metrics node jobs of the managed
 *     overlay, once per node with $NODE_IP and $NODE_NAME substituted), plus an annotation-based pod job as most
 *     Prometheus setups and ama-metrics' pod-annotation scraping run it, are loaded into Debian's real Prometheus with
 *     the pods as discovered targets (helpers/pod-discovery.ts), and every active target at a collector's address and
 *     port counts as one scrape;
 *   - every PodMonitor and ServiceMonitor endpoint that selects a collector pod's port counts as one scrape (the
 *     Prometheus Operator makes one job per endpoint).
 *
 * Not exercised here: Kubernetes service discovery itself, the Prometheus Operator and ama-metrics.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveConfig } from '@kappie/collector';
import { parse, stringify } from 'yaml';
import { SCRAPE_JOB } from '../../src/rules';
import { renderKustomization, type KubernetesObject } from '../helpers/kustomize';
import { DEPLOY_ROOT, PROMETHEUS_DIR } from '../helpers/paths';
import { discoveredPods, podOf, podTargetGroups, type SimulatedPod } from '../helpers/pod-discovery';
import { prometheusStackUnavailable, startPrometheus, stopProcess } from '../helpers/prometheus-stack';

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests and configurations are untyped YAML */
type Any = any;

const OVERLAYS_DIR = path.join(DEPLOY_ROOT, 'kubernetes', 'overlays');
const COLLECTOR_PORT = resolveConfig({}, {}).listen.port;
const ANNOTATION_JOB = parse(
  fs.readFileSync(path.join(DEPLOY_ROOT, 'test', 'fixtures', 'annotation-scrape-job.yml'), 'utf8'),
) as Any;
/** Loopback addresses stand in for node IPs: nothing outside this machine is ever a target. */
const NODES = {
  linux: { name: 'aks-nodepool1-12345678-vmss000000', ip: '127.0.93.1' },
  windows: { name: 'akswin000000', ip: '127.0.93.2' },
} as const;

function loadJob(file: string, jobName: string): Any {
  const config = parse(fs.readFileSync(path.join(PROMETHEUS_DIR, file), 'utf8')) as Any;
  const job = (config.scrape_configs as Any[]).find((j) => j.job_name === jobName);
  if (!job) throw new Error(`${file} has no job ${jobName}`);
  return job;
}

/** The ama-metrics node job of a ConfigMap of the rendered overlay, as ama-metrics runs it on one node. */
function amaMetricsNodeJob(objects: KubernetesObject[], configMap: string, pod: SimulatedPod): Any {
  const found = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === configMap) as Any;
  if (!found) throw new Error(`the overlay has no ConfigMap ${configMap}`);
  const text = (found.data['prometheus-config'] as string)
    .replaceAll('$NODE_IP', pod.nodeIp)
    .replaceAll('$NODE_NAME', pod.nodeName);
  const jobs = (parse(text) as Any).scrape_configs as Any[];
  if (jobs.length !== 1) throw new Error(`${configMap} should hold one job`);
  return jobs[0];
}

interface DocumentedPath {
  /** As the README names the path. */
  readonly name: string;
  readonly overlay: string;
  /** Jobs one Prometheus runs for the whole cluster (Kubernetes pod discovery). */
  readonly clusterJobs: Any[];
  /** Jobs a per-node scraper runs on the node of `pod` (ama-metrics' node DaemonSets). */
  readonly nodeJobs: (objects: KubernetesObject[], pod: SimulatedPod) => Any[];
  /** The one scrape each collector pod must get, by name. */
  readonly expected: (pod: SimulatedPod) => string;
}

const PATHS: DocumentedPath[] = [
  {
    name: 'your own Prometheus',
    overlay: 'byo',
    clusterJobs: [loadJob('prometheus-kubernetes.yml', SCRAPE_JOB), ANNOTATION_JOB],
    nodeJobs: () => [],
    expected: () => `job ${SCRAPE_JOB}`,
  },
  {
    name: 'Prometheus Operator',
    overlay: 'prometheus-operator',
    clusterJobs: [ANNOTATION_JOB],
    nodeJobs: () => [],
    expected: () => 'PodMonitor kappie/kappie-collector',
  },
  {
    name: 'Azure Monitor managed Prometheus',
    overlay: 'managed',
    clusterJobs: [ANNOTATION_JOB],
    nodeJobs: (objects, pod) => [
      amaMetricsNodeJob(
        objects,
        pod.os === 'linux' ? 'ama-metrics-prometheus-config-node' : 'ama-metrics-prometheus-config-node-windows',
        pod,
      ),
    ],
    expected: (pod) => `job ${SCRAPE_JOB} on ${pod.nodeName}`,
  },
];

function collectorPods(objects: KubernetesObject[]): SimulatedPod[] {
  return objects
    .filter((o) => o.kind === 'DaemonSet')
    .map((daemonSet) => {
      const os = (daemonSet as Any).spec.template.spec.nodeSelector['kubernetes.io/os'] as keyof typeof NODES;
      return podOf(daemonSet, NODES[os].name, NODES[os].ip);
    });
}

/** Does a pod have a container port named `port` (or numbered) on the collector port? */
function podPortIsCollector(pod: SimulatedPod, port: string | number): boolean {
  return pod.containers.some((c) =>
    c.ports.some((p) => (p.name === port || p.containerPort === port) && p.containerPort === COLLECTOR_PORT),
  );
}

function matchLabels(selector: Any, labels: Readonly<Record<string, string>>): boolean {
  if (selector?.matchExpressions) throw new Error('matchExpressions are not simulated');
  return Object.entries((selector?.matchLabels ?? {}) as Record<string, string>).every(([k, v]) => labels[k] === v);
}

function namespaceSelected(monitor: Any, namespace: string): boolean {
  const selector = monitor.spec.namespaceSelector;
  if (selector === undefined) return namespace === monitor.metadata.namespace;
  if (selector.any === true) return true;
  return ((selector.matchNames ?? []) as string[]).includes(namespace);
}

/** The Prometheus Operator's scrape jobs that hit the collector of `pod`: one per matching monitor endpoint. */
function monitorScrapes(objects: KubernetesObject[], pod: SimulatedPod): string[] {
  const hits: string[] = [];
  for (const monitor of objects.filter((o) => o.kind === 'PodMonitor') as Any[]) {
    if (!namespaceSelected(monitor, pod.namespace) || !matchLabels(monitor.spec.selector, pod.labels)) continue;
    for (const endpoint of monitor.spec.podMetricsEndpoints as Any[]) {
      if (podPortIsCollector(pod, endpoint.port ?? endpoint.targetPort)) {
        hits.push(`PodMonitor ${monitor.metadata.namespace}/${monitor.metadata.name}`);
      }
    }
  }
  for (const monitor of objects.filter((o) => o.kind === 'ServiceMonitor') as Any[]) {
    const services = (objects.filter((o) => o.kind === 'Service') as Any[]).filter(
      (service) =>
        namespaceSelected(monitor, service.metadata.namespace) &&
        matchLabels(monitor.spec.selector, service.metadata.labels ?? {}) &&
        service.metadata.namespace === pod.namespace &&
        Object.entries(service.spec.selector ?? {}).every(([k, v]) => pod.labels[k] === v),
    );
    for (const service of services) {
      for (const endpoint of monitor.spec.endpoints as Any[]) {
        const servicePort = (service.spec.ports as Any[]).find((p) => p.name === endpoint.port);
        if (servicePort && podPortIsCollector(pod, servicePort.targetPort ?? servicePort.port)) {
          hits.push(`ServiceMonitor ${monitor.metadata.namespace}/${monitor.metadata.name}`);
        }
      }
    }
  }
  return hits;
}

interface LoadedJob {
  readonly path: string;
  readonly label: (pod: SimulatedPod) => string;
  readonly expectedTargets: number;
}

/**
 * One Prometheus configuration holding every path's jobs (renamed p<index>-..., never scraping within the test: an
 * hour's interval), with Kubernetes discovery replaced by file_sd files of the simulated pods.
 */
function prometheusConfiguration(dir: string, rendered: Map<string, KubernetesObject[]>) {
  const scrapeConfigs: Any[] = [];
  const jobs = new Map<string, LoadedJob>();
  const add = (
    pathName: string,
    job: Any,
    jobName: string,
    label: (pod: SimulatedPod) => string,
    pods: SimulatedPod[],
  ) => {
    const copy = structuredClone(job);
    copy.job_name = jobName;
    copy.scrape_interval = '1h';
    copy.scrape_timeout = '10s';
    let expectedTargets = ((copy.static_configs ?? []) as Any[]).reduce((n, c) => n + c.targets.length, 0);
    if (copy.kubernetes_sd_configs) {
      const groups = (copy.kubernetes_sd_configs as Any[]).flatMap((sd) =>
        discoveredPods(sd, pods).flatMap(podTargetGroups),
      );
      const file = path.join(dir, `${jobName}.json`);
      fs.writeFileSync(file, JSON.stringify(groups));
      delete copy.kubernetes_sd_configs;
      copy.file_sd_configs = [{ files: [file] }];
      expectedTargets += groups.length;
    }
    scrapeConfigs.push(copy);
    jobs.set(jobName, { path: pathName, label, expectedTargets });
  };
  PATHS.forEach((documented, index) => {
    const objects = rendered.get(documented.overlay)!;
    const pods = collectorPods(objects);
    for (const job of documented.clusterJobs) {
      add(documented.name, job, `p${index}-${job.job_name}`, () => `job ${job.job_name}`, pods);
    }
    for (const pod of pods) {
      for (const job of documented.nodeJobs(objects, pod)) {
        add(
          documented.name,
          job,
          `p${index}-${pod.nodeName}-${job.job_name}`,
          (p) => `job ${job.job_name} on ${p.nodeName}`,
          pods,
        );
      }
    }
  });
  return { text: stringify({ global: { scrape_interval: '1h' }, scrape_configs: scrapeConfigs }), jobs };
}

interface TargetsResponse {
  data: {
    activeTargets: { scrapePool: string; scrapeUrl: string }[];
    droppedTargets: { discoveredLabels: Record<string, string> }[];
  };
}

const unavailable = prometheusStackUnavailable();
if (unavailable) {
  // eslint-disable-next-line no-console
  console.warn(`skipping the scrape path count: ${unavailable}`);
}

describe('documented scrape paths', () => {
  const overlays = fs
    .readdirSync(OVERLAYS_DIR)
    .filter((name) => fs.existsSync(path.join(OVERLAYS_DIR, name, 'kustomization.yaml')));

  it('cover every overlay', () => {
    expect(PATHS.map((p) => p.overlay).sort()).toEqual([...overlays].sort());
  });

  it('no pod opts in to annotation-based scraping (every path has its own job; see the README)', () => {
    for (const overlay of overlays) {
      for (const pod of collectorPods(renderKustomization(path.join(OVERLAYS_DIR, overlay)))) {
        expect({ overlay, pod: pod.controller, scrape: pod.annotations['prometheus.io/scrape'] }).toEqual({
          overlay,
          pod: pod.controller,
          scrape: 'false',
        });
      }
    }
  });

  (unavailable ? it.skip : it)(
    'each collector is scraped exactly once on each path',
    async () => {
      const rendered = new Map(
        PATHS.map((p) => [p.overlay, renderKustomization(path.join(OVERLAYS_DIR, p.overlay))] as const),
      );
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-scrape-paths-'));
      const { text, jobs } = prometheusConfiguration(dir, rendered);
      const prometheus = await startPrometheus(dir, text, 60_000);
      try {
        // Discovery reaches the scrape manager in batches (every 5 s): wait until every job has all its targets.
        let targets: TargetsResponse['data'] | undefined;
        const deadline = Date.now() + 60_000;
        for (;;) {
          const response = (await (
            await fetch(`${prometheus.url}/api/v1/targets?state=any`)
          ).json()) as TargetsResponse;
          targets = response.data;
          const seen = new Map<string, number>();
          for (const t of targets.activeTargets) seen.set(t.scrapePool, (seen.get(t.scrapePool) ?? 0) + 1);
          for (const t of targets.droppedTargets) {
            seen.set(t.discoveredLabels.job!, (seen.get(t.discoveredLabels.job!) ?? 0) + 1);
          }
          if ([...jobs].every(([name, job]) => (seen.get(name) ?? 0) === job.expectedTargets)) break;
          if (Date.now() > deadline)
            throw new Error(`Prometheus did not discover every target: ${prometheus.output()}`);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }

        const scrapes: Record<string, Record<string, string[]>> = {};
        const expected: Record<string, Record<string, string[]>> = {};
        for (const documented of PATHS) {
          scrapes[documented.name] = {};
          expected[documented.name] = {};
          const objects = rendered.get(documented.overlay)!;
          for (const pod of collectorPods(objects)) {
            const address = `${pod.nodeIp}:${COLLECTOR_PORT}`;
            const fromJobs = targets.activeTargets
              .filter((t) => jobs.get(t.scrapePool)?.path === documented.name && new URL(t.scrapeUrl).host === address)
              .map((t) => jobs.get(t.scrapePool)!.label(pod));
            scrapes[documented.name]![pod.controller] = [...fromJobs, ...monitorScrapes(objects, pod)];
            expected[documented.name]![pod.controller] = [documented.expected(pod)];
          }
        }
        expect(scrapes).toEqual(expected);
      } finally {
        await stopProcess(prometheus.child);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
