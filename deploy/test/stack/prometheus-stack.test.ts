/**
 * The real stack: Debian's prometheus scrapes the real collector with the static scrape configuration and loads the
 * repository's rules. Everything is asserted through Prometheus' HTTP API, as a dashboard or an operator would see it.
 */
import {
  LABEL,
  METRICS,
  METRIC_KEYS,
  NETWORK_METRIC_KEYS,
  metricName,
  type MetricKey,
} from '@kappie/collector/catalog';
import { createSources } from '../../../collector/src/sources';
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { describeWithStack } from '../helpers/describe-stack';
import { renderKustomization } from '../helpers/kustomize';
import { DEPLOY_ROOT, RULE_FILES } from '../helpers/paths';
import {
  COLLECTOR_CLI,
  ensureCollectorBuilt,
  freePort,
  isolationArgs,
  SCRAPE_JOB,
  startPrometheusStack,
  type PrometheusStack,
} from '../helpers/prometheus-stack';

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Any = any;

/** Labels Prometheus or the collector add to every series besides the catalog's own. */
const TARGET_LABELS = new Set(['__name__', 'job', 'instance', LABEL.nodeName, LABEL.cluster]);

/** Families the collector exports on Linux: its own health plus what some registered Linux source declares. */
function expectedLinuxFamilies(): MetricKey[] {
  const declared = new Set(
    createSources()
      .filter((s) => s.platforms.includes('linux'))
      .flatMap((s) => s.metrics),
  );
  return METRIC_KEYS.filter(
    (key) => METRICS[key].platforms.includes('linux') && (!NETWORK_METRIC_KEYS.includes(key) || declared.has(key)),
  );
}

/**
 * Datagrams to a loopback UDP port nobody listens on: the kernel drops each one (no socket), which is what the drop
 * sources count. Loopback only.
 */
async function sendToClosedLoopbackPort(count: number): Promise<void> {
  const port = await freePort();
  const socket = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < count; i += 1) {
      await new Promise<void>((resolve, reject) =>
        socket.send(Buffer.alloc(16), port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
      );
    }
  } finally {
    socket.close();
  }
}

function declaringLinuxSources(key: MetricKey): string[] {
  return createSources()
    .filter((s) => s.platforms.includes('linux') && s.metrics.includes(key))
    .map((s) => s.name);
}

/**
 * Each source's state and reason (down, or up with a note), by source name (`drops`, not the name of the strategy its
 * status is reported under), from the real collector's `snapshot --json`.
 */
function sourceReasons(): Record<string, string> {
  ensureCollectorBuilt();
  // Gathered here (not read from a collector: /metrics has no reasons), drops counted for a short window in tracefs
  // events, as the serving collector counts them, so the drops source's reason is the serving collector's.
  const args = ['snapshot', '--json', '--from', 'none', '--duration', '0.5', ...isolationArgs([])];
  const result = spawnSync(process.execPath, [COLLECTOR_CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`kappie snapshot failed: ${result.stderr}`);
  const gathering = JSON.parse(result.stdout) as { sources: { source: string; up: boolean; reason?: string }[] };
  return Object.fromEntries(
    gathering.sources.map((s) => [s.source, `${s.up ? 'up' : 'down'}${s.reason ? `: ${s.reason}` : ''}`]),
  );
}

/** Family names and types as the collector writes them on /metrics. */
function exportedFamilies(text: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(match[1]!, match[2]!);
  return families;
}

const describeStack = describeWithStack('Prometheus stack test');

describeStack('collector scraped by a real Prometheus (static scrape config)', () => {
  let stack: PrometheusStack;
  let exported: Map<string, string>;
  const byName = new Map(METRIC_KEYS.map((key) => [metricName(METRICS[key]), key]));

  beforeAll(async () => {
    stack = await startPrometheusStack({ ruleFiles: RULE_FILES });
    // Families that count events exist once an event happened: give the drop sources one to count.
    await sendToClosedLoopbackPort(20);
    await stack.waitForScrapes(3);
    exported = exportedFamilies(await stack.collectorMetrics());
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('scrapes the collector successfully, and up carries the scrape job', async () => {
    const up = await stack.query(`up{job="${SCRAPE_JOB}"}`);
    expect(up.resultType).toBe('vector');
    if (up.resultType !== 'vector') return;
    expect(up.result).toHaveLength(1);
    expect(up.result[0]!.value[1]).toBe('1');
  });

  it('exports only catalog families, under exactly the catalog names', () => {
    expect(exported.size).toBeGreaterThan(0);
    for (const name of exported.keys()) expect(byName.has(name) ? name : `${name} (not in the catalog)`).toBe(name);
  });

  it('stores every exported family under the catalog name with the catalog type, labels and node_name', async () => {
    const metadata = await stack.metadata();
    for (const name of exported.keys()) {
      const definition = METRICS[byName.get(name)!];
      expect({ name, metadata: metadata[name]?.map((m) => m.type) }).toEqual({ name, metadata: [definition.type] });
      const data = await stack.query(`${name}{job="${SCRAPE_JOB}"}`);
      if (data.resultType !== 'vector') throw new Error(`${name}: ${data.resultType}`);
      expect({ name, series: data.result.length > 0 }).toEqual({ name, series: true });
      for (const series of data.result) {
        const own = Object.keys(series.metric).filter((label) => !TARGET_LABELS.has(label));
        expect({ name, labels: own.sort() }).toEqual({ name, labels: [...definition.labels].sort() });
        expect({ name, nodeName: series.metric[LABEL.nodeName] }).toEqual({ name, nodeName: stack.nodeName });
      }
    }
  });

  it('adds no suffix: every kappie_ name Prometheus knows is a catalog name', async () => {
    const metadata = await stack.metadata();
    const ours = Object.keys(metadata).filter((name) => name.startsWith('kappie_'));
    for (const name of ours) expect(byName.has(name) ? name : `${name} (not a catalog name)`).toBe(name);
  });

  it('has every Linux family that a registered Linux source declares, plus the collector health families', async () => {
    const reasons = sourceReasons();
    for (const key of expectedLinuxFamilies()) {
      const name = metricName(METRICS[key]);
      const data = await stack.query(`count(${name}{job="${SCRAPE_JOB}"})`);
      const present = data.resultType === 'vector' && Number(data.result[0]?.value[1] ?? 0) > 0;
      // A family may be absent only when every source declaring it says why, naming it (e.g. drop_bytes without
      // kprobe events on this kernel); the reasons are in the message otherwise.
      const declaring = declaringLinuxSources(key);
      const explained = declaring.length > 0 && declaring.every((s) => reasons[s]?.includes(METRICS[key].name));
      expect({ name, presentOrExplained: present || explained, reasons: present || explained ? {} : reasons }).toEqual({
        name,
        presentOrExplained: true,
        reasons: {},
      });
    }
  });

  it('evaluates the recording rules (no rule group reports an error)', async () => {
    const response = await fetch(`${stack.prometheusUrl}/api/v1/rules`);
    const body = (await response.json()) as {
      data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const rules = body.data.groups.flatMap((group) => group.rules);
    expect(rules.length).toBeGreaterThan(0);
    await stack.waitForScrapes(5);
    for (const rule of rules)
      expect({ rule: rule.name, health: rule.health, error: rule.lastError ?? '' }).toEqual({
        rule: rule.name,
        health: expect.stringMatching(/^(ok|unknown)$/),
        error: '',
      });
  });

  it('answers the Kubernetes probes of the Linux DaemonSet (liveness and readiness paths) with 200', async () => {
    const objects = renderKustomization(path.join(DEPLOY_ROOT, 'kubernetes', 'base'));
    const daemonSet = objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'kappie-collector') as Any;
    const container = daemonSet.spec.template.spec.containers[0];
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      const response = await fetch(`${stack.collectorUrl}${probe.httpGet.path as string}`);
      expect({ path: probe.httpGet.path, status: response.status }).toEqual({ path: probe.httpGet.path, status: 200 });
    }
  });

  it('rejects bad PromQL with Prometheus error text', async () => {
    await expect(stack.query('sum(')).rejects.toThrow(/bad_data/);
  });
});
