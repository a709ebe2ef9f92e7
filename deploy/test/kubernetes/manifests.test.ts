/**
 * The Kubernetes manifests: both overlays render (`kubectl kustomize`), every object is valid against
 * the Kubernetes API schemas with no unknown field, and the DaemonSets say what the README promises.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OPTIONS, resolveConfig } from '@kappie/collector';
import { SCRAPE_JOB } from '../../src/rules';
import { typeCheckObjects, validateAgainstSchemas } from '../helpers/kubernetes-schema';
import { renderKustomization, type KubernetesObject } from '../helpers/kustomize';
import { DEPLOY_ROOT } from '../helpers/paths';

const KUBERNETES_DIR = path.join(DEPLOY_ROOT, 'kubernetes');
const OVERLAYS_DIR = path.join(KUBERNETES_DIR, 'overlays');
/** Every overlay in deploy/kubernetes/overlays: a new one is tested without being listed. */
const OVERLAYS = fs
  .readdirSync(OVERLAYS_DIR)
  .filter((name) => fs.existsSync(path.join(OVERLAYS_DIR, name, 'kustomization.yaml')));
const COLLECTOR_VERSION = (
  JSON.parse(fs.readFileSync(path.join(DEPLOY_ROOT, '..', 'collector', 'package.json'), 'utf8')) as { version: string }
).version;
/** The port the collector listens on by default, which every manifest and scrape config must use. */
const COLLECTOR_PORT = resolveConfig({}, {}).listen.port;

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML; the schema tests type them */
type Any = any;

function render(overlay: string): KubernetesObject[] {
  return renderKustomization(path.join(KUBERNETES_DIR, 'overlays', overlay));
}
function find(objects: KubernetesObject[], kind: string, name: string): Any {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}
const linuxDaemonSet = (objects: KubernetesObject[]) => find(objects, 'DaemonSet', 'kappie-collector');
const windowsDaemonSet = (objects: KubernetesObject[]) => find(objects, 'DaemonSet', 'kappie-collector-windows');

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  const objects = render(overlay);

  it('renders the namespace, service account, both DaemonSets and the Service', () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'Namespace/kappie',
        'ServiceAccount/kappie-collector',
        'DaemonSet/kappie-collector',
        'DaemonSet/kappie-collector-windows',
        'Service/kappie-collector',
      ]),
    );
    for (const object of objects.filter((o) => o.kind !== 'Namespace' && o.kind !== 'ConfigMap')) {
      expect(`${object.kind}/${object.metadata.name} in ${object.metadata.namespace}`).toBe(
        `${object.kind}/${object.metadata.name} in kappie`,
      );
    }
  });

  it('every object is valid against the Kubernetes API schemas', () => {
    const invalid = validateAgainstSchemas(objects).filter((result) => result.error !== null);
    expect(invalid).toEqual([]);
  });

  it('pod templates select their own labels, and the Service selects the pods', () => {
    const service = find(objects, 'Service', 'kappie-collector');
    for (const daemonSet of [linuxDaemonSet(objects), windowsDaemonSet(objects)]) {
      const podLabels = daemonSet.spec.template.metadata.labels as Record<string, string>;
      for (const [key, value] of Object.entries(daemonSet.spec.selector.matchLabels as Record<string, string>)) {
        expect(podLabels[key]).toBe(value);
      }
      for (const [key, value] of Object.entries(service.spec.selector as Record<string, string>)) {
        expect(podLabels[key]).toBe(value);
      }
    }
  });
});

describe('schema validation can fail', () => {
  it('rejects a Service whose port is not a number', () => {
    const service = find(render('byo'), 'Service', 'kappie-collector');
    service.spec.ports[0].port = 'metrics';
    expect(validateAgainstSchemas([service])[0]!.error).toMatch(/port/);
  });
});

describe('no unknown fields (type-checked against the Kubernetes API types)', () => {
  it('every object of every overlay', () => {
    const all = OVERLAYS.flatMap(render);
    expect(typeCheckObjects(all)).toBe('');
  }, 120_000);

  it('a misspelt field is caught (the check can fail)', () => {
    const objects = render('byo');
    const daemonSet = linuxDaemonSet(objects);
    daemonSet.spec.template.spec.containers[0].securityContext.readOnlyRootFilesytem = true;
    expect(typeCheckObjects([daemonSet])).toMatch(/readOnlyRootFilesytem/);
  }, 120_000);
});

/** A value with $(VAR) references as the kubelet expands it, HOST_IP being `hostIp`. */
function kubeletExpand(value: string, hostIp: string): string {
  return value.replace(/\$\(HOST_IP\)/g, hostIp);
}

/** KAPPIE_LISTEN is the node's own address (HOST_IP from status.hostIP, defined before it) on the collector port. */
function expectListenOnHostIp(env: Any[]): void {
  const names = env.map((e) => e.name as string);
  expect(names.indexOf('HOST_IP')).toBeLessThan(names.indexOf('KAPPIE_LISTEN'));
  expect(env.find((e) => e.name === 'HOST_IP').valueFrom).toEqual({ fieldRef: { fieldPath: 'status.hostIP' } });
  const listen = env.find((e) => e.name === 'KAPPIE_LISTEN').value as string;
  expect(resolveConfig({}, { KAPPIE_LISTEN: kubeletExpand(listen, '10.224.0.4') }).listen).toEqual({
    host: '10.224.0.4',
    port: COLLECTOR_PORT,
  });
  expect(resolveConfig({}, { KAPPIE_LISTEN: kubeletExpand(listen, 'fd00:10:224::4') }).listen).toEqual({
    host: 'fd00:10:224::4',
    port: COLLECTOR_PORT,
  });
}

describe('Linux DaemonSet', () => {
  const daemonSet = linuxDaemonSet(render('byo'));
  const pod = daemonSet.spec.template.spec;
  const container = pod.containers[0];

  it('runs on every Linux node in the host network namespace, without host PID', () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.hostPID).toBe(false);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('drops every capability but NET_ADMIN and SYSLOG, with a read-only root file system and no privilege escalation', () => {
    expect(container.securityContext).toMatchObject({
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsUser: 0,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'SYSLOG'] },
    });
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
  });

  it('mounts host /proc and /sys read-only and tracefs where the collector options point', () => {
    const env = Object.fromEntries(
      (container.env as Any[]).filter((e) => e.value).map((e) => [e.name, kubeletExpand(e.value, '10.224.0.4')]),
    );
    const config = resolveConfig({}, env);
    const mounts = new Map((container.volumeMounts as Any[]).map((m) => [m.mountPath, m]));
    const volumes = new Map((pod.volumes as Any[]).map((v) => [v.name, v]));
    const hostPathOf = (mountPath: string) => volumes.get(mounts.get(mountPath)?.name)?.hostPath?.path;
    expect(hostPathOf(config.procPath)).toBe('/proc');
    expect(hostPathOf(config.sysPath)).toBe('/sys');
    expect(hostPathOf(config.tracefsPath)).toBe('/sys/kernel/tracing');
    expect(mounts.get(config.procPath).readOnly).toBe(true);
    expect(mounts.get(config.sysPath).readOnly).toBe(true);
    // AppArmor's default container profile denies writes below /sys/[^f]*/ inside the container.
    expect(config.tracefsPath.startsWith('/sys/')).toBe(false);
  });

  it('listens only on the node address (status.hostIP), IPv4 or IPv6', () => {
    expectListenOnHostIp(container.env as Any[]);
  });

  it('sets only environment variables the collector reads, NODE_NAME from the downward API', () => {
    // HOST_IP is read by the kubelet for KAPPIE_LISTEN's $(HOST_IP), not by the collector.
    const known = new Set<string>([...OPTIONS.map((o) => o.env), 'NODE_NAME', 'HOST_IP']);
    for (const variable of container.env as Any[])
      expect(known.has(variable.name) ? variable.name : `unknown ${variable.name}`).toBe(variable.name);
    expect((container.env as Any[]).find((e) => e.name === 'NODE_NAME').valueFrom).toEqual({
      fieldRef: { fieldPath: 'spec.nodeName' },
    });
  });

  it('listens on the collector port, probes /healthz and /readyz on it, and sets requests and limits', () => {
    expect(container.ports).toEqual([
      { name: 'metrics', containerPort: COLLECTOR_PORT, hostPort: COLLECTOR_PORT, protocol: 'TCP' },
    ]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(container.resources.limits).sort()).toEqual(['cpu', 'memory']);
  });

  it('sets the requests and limits MEASUREMENTS.md derives from the measured footprint', () => {
    const text = fs.readFileSync(path.join(KUBERNETES_DIR, 'MEASUREMENTS.md'), 'utf8');
    const stated = (kind: string) => {
      const line = new RegExp(`^- ${kind}: \`cpu: (\\S+)\`, \`memory: (\\S+)\``, 'm').exec(text);
      if (!line) throw new Error(`MEASUREMENTS.md does not state the ${kind}`);
      return { cpu: line[1], memory: line[2] };
    };
    expect(container.resources.requests).toEqual(stated('requests'));
    expect(container.resources.limits).toEqual(stated('limits'));
  });

  it('uses the image of this collector version, from a registry (not a bare name no registry serves)', () => {
    expect(container.image).toMatch(
      new RegExp(`^[a-z0-9.-]+\\.[a-z]+(:\\d+)?/\\S+/kappie-collector:${COLLECTOR_VERSION}$`),
    );
  });
});

describe('Windows DaemonSet', () => {
  const daemonSet = windowsDaemonSet(render('byo'));
  const pod = daemonSet.spec.template.spec;
  const container = pod.containers[0];

  it('is a HostProcess pod as NT AUTHORITY\\SYSTEM in the host network, on Windows nodes only', () => {
    expect(pod.securityContext.windowsOptions).toEqual({ hostProcess: true, runAsUserName: 'NT AUTHORITY\\SYSTEM' });
    expect(pod.hostNetwork).toBe(true);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'windows' });
  });

  it('listens on the collector port with the same probes, NODE_NAME from the downward API', () => {
    expect(container.ports[0].containerPort).toBe(COLLECTOR_PORT);
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect((container.env as Any[]).find((e) => e.name === 'NODE_NAME').valueFrom.fieldRef.fieldPath).toBe(
      'spec.nodeName',
    );
    expect(container.image).toMatch(
      new RegExp(`^[a-z0-9.-]+\\.[a-z]+(:\\d+)?/\\S+/kappie-collector-windows:${COLLECTOR_VERSION}$`),
    );
  });

  it('listens only on the node address (status.hostIP), IPv4 or IPv6', () => {
    expectListenOnHostIp(container.env as Any[]);
  });
});

describe('managed overlay', () => {
  const objects = render('managed');

  it('adds the ama-metrics node scrape jobs in kube-system', () => {
    for (const name of ['ama-metrics-prometheus-config-node', 'ama-metrics-prometheus-config-node-windows']) {
      const configMap = find(objects, 'ConfigMap', name);
      expect(configMap.metadata.namespace).toBe('kube-system');
      expect(configMap.data['prometheus-config']).toContain(`job_name: ${SCRAPE_JOB}`);
    }
  });
});
