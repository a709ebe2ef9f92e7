/**
 * Prometheus' Kubernetes pod discovery, for scrape configurations that cannot run it here (Debian builds Prometheus
 * without kubernetes_sd_configs, and there is no cluster): the pods a DaemonSet would run are written as file_sd
 * targets carrying the `__meta_kubernetes_pod_*` labels Prometheus documents for `role: pod`, so that a real
 * Prometheus applies each job's relabelling to them. What the API server does for a `kubernetes_sd_configs` block
 * (namespace list, equality label selectors) is applied here, before the targets are written.
 *
 * Labels, per https://prometheus.io/docs/prometheus/latest/configuration/configuration/#pod: one target per declared
 * container port, `__address__` = pod IP:port; label and annotation names sanitized to [a-zA-Z0-9_].
 */
import type { KubernetesObject } from './kustomize';

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Any = any;

/** A pod as a DaemonSet would create it on one node (host network: its IP is the node's). */
export interface SimulatedPod {
  readonly name: string;
  readonly namespace: string;
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly os: 'linux' | 'windows';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly containers: readonly {
    name: string;
    image: string;
    ports: { name?: string; containerPort: number; protocol?: string }[];
  }[];
  readonly controller: string;
}

export interface FileSdTargetGroup {
  readonly targets: string[];
  readonly labels: Record<string, string>;
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** The pod of a rendered DaemonSet on a node. */
export function podOf(daemonSet: KubernetesObject, nodeName: string, nodeIp: string): SimulatedPod {
  const spec = (daemonSet as Any).spec.template;
  const os = spec.spec.nodeSelector?.['kubernetes.io/os'];
  if (os !== 'linux' && os !== 'windows') throw new Error(`${daemonSet.metadata.name} selects no OS`);
  if (spec.spec.hostNetwork !== true)
    throw new Error(`${daemonSet.metadata.name}: pod IPs are simulated for host network only`);
  return {
    name: `${daemonSet.metadata.name}-${nodeName}`,
    namespace: daemonSet.metadata.namespace ?? 'default',
    nodeName,
    nodeIp,
    os,
    labels: spec.metadata.labels ?? {},
    annotations: spec.metadata.annotations ?? {},
    containers: spec.spec.containers,
    controller: daemonSet.metadata.name,
  };
}

/** The file_sd target groups Prometheus' `role: pod` discovery would produce for this pod (Running, ready). */
export function podTargetGroups(pod: SimulatedPod): FileSdTargetGroup[] {
  const podLabels: Record<string, string> = {
    __meta_kubernetes_namespace: pod.namespace,
    __meta_kubernetes_pod_name: pod.name,
    __meta_kubernetes_pod_ip: pod.nodeIp,
    __meta_kubernetes_pod_node_name: pod.nodeName,
    __meta_kubernetes_pod_host_ip: pod.nodeIp,
    __meta_kubernetes_pod_phase: 'Running',
    __meta_kubernetes_pod_ready: 'true',
    __meta_kubernetes_pod_uid: `uid-${pod.name}`,
    __meta_kubernetes_pod_controller_kind: 'DaemonSet',
    __meta_kubernetes_pod_controller_name: pod.controller,
  };
  for (const [name, value] of Object.entries(pod.labels)) {
    podLabels[`__meta_kubernetes_pod_label_${sanitize(name)}`] = value;
    podLabels[`__meta_kubernetes_pod_labelpresent_${sanitize(name)}`] = 'true';
  }
  for (const [name, value] of Object.entries(pod.annotations)) {
    podLabels[`__meta_kubernetes_pod_annotation_${sanitize(name)}`] = value;
    podLabels[`__meta_kubernetes_pod_annotationpresent_${sanitize(name)}`] = 'true';
  }
  return pod.containers.flatMap((container) =>
    container.ports.map((port) => ({
      targets: [`${pod.nodeIp}:${port.containerPort}`],
      labels: {
        ...podLabels,
        __meta_kubernetes_pod_container_init: 'false',
        __meta_kubernetes_pod_container_name: container.name,
        __meta_kubernetes_pod_container_image: container.image,
        __meta_kubernetes_pod_container_port_name: port.name ?? '',
        __meta_kubernetes_pod_container_port_number: String(port.containerPort),
        __meta_kubernetes_pod_container_port_protocol: port.protocol ?? 'TCP',
      },
    })),
  );
}

/** An equality-based label selector ("a=b,c!=d") against labels; set-based selectors are refused. */
export function selectorMatches(selector: string, labels: Readonly<Record<string, string>>): boolean {
  return selector
    .split(',')
    .map((term) => term.trim())
    .filter(Boolean)
    .every((term) => {
      const match = /^([\w./-]+)\s*(!=|==|=)\s*([\w.-]*)$/.exec(term);
      if (!match) throw new Error(`label selector term "${term}" is not an equality term`);
      const [, key, op, value] = match;
      return op === '!=' ? labels[key!] !== value : labels[key!] === value;
    });
}

/**
 * The pods a `kubernetes_sd_configs` entry of role pod would list: its namespaces and pod label selectors applied
 * (what the API server filters). Other roles and field selectors are refused, so a config using them cannot pass
 * unchecked.
 */
export function discoveredPods(sdConfig: Any, pods: readonly SimulatedPod[]): SimulatedPod[] {
  if (sdConfig.role !== 'pod') throw new Error(`kubernetes_sd_configs role ${sdConfig.role} is not simulated`);
  const namespaces = sdConfig.namespaces?.names as string[] | undefined;
  const selectors = (sdConfig.selectors ?? []) as { role: string; label?: string; field?: string }[];
  for (const selector of selectors) {
    if (selector.role !== 'pod' || selector.field !== undefined) {
      throw new Error(`selector ${JSON.stringify(selector)} is not simulated`);
    }
  }
  return pods.filter(
    (pod) =>
      (namespaces === undefined || namespaces.includes(pod.namespace)) &&
      selectors.every((selector) => selector.label === undefined || selectorMatches(selector.label, pod.labels)),
  );
}
