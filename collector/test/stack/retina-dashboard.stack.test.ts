/**
 * Retina's node dashboard ("Kubernetes / Networking / Clusters", grafana.com 18814) against Kappie in
 * `--compat retina`: every panel's query, built here from the facts of compat-retina-dashboard.ts (metric, label
 * values, aggregation, filters) rather than copied, runs against Debian's real `prometheus` scraping the real
 * collector, and returns data.
 *
 * The node is a network namespace with a veth uplink (default route) to a second namespace; the collector and
 * Prometheus both run inside it, and the test queries Prometheus there with curl. Prometheus scrapes with the
 * ama-metrics node job of deploy/azure (the real file, $NODE_IP and $NODE_NAME substituted as ama-metrics does),
 * plus the `cluster` target label that ama-metrics adds itself (simulated: ama-metrics does not run here).
 * Drops keep happening while it scrapes (helpers/drop-traffic.ts), so the panels that show only moving series have
 * something to show.
 *
 * The exceptions, each decided by checking this machine rather than assumed: the dropped-bytes panels when the
 * kernel has no kprobe events (then there is no drop_bytes), and the NIC driver-statistic panels when the uplink's
 * driver (a veth here) has no statistic of that name (checked with `ethtool -S` on the uplink). No other panel may
 * be excused.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { METRICS, RETINA_METRIC_PREFIX, metricName } from '../../src/catalog';
import {
  RETINA_DASHBOARD_PANELS,
  RETINA_DASHBOARD_VARIABLES,
  type RetinaPanel,
} from '../../src/compat-retina-dashboard';
import {
  collectorNodeFlags,
  ensureCollectorBuilt,
  escapePromRegex,
  PROMETHEUS_BINARY,
  prometheusStackUnavailable,
} from '../../../deploy/test/helpers/prometheus-stack';
import { createBlackhole, startDropLoop, startUnknownEthertypeLoop } from '../helpers/drop-traffic';
import { MOUNT_TRACEFS, removeTracefsInstances } from '../helpers/tracefs-instances';
import { parseEthtoolStatistics } from '../helpers/ethtool-text';
import {
  cleanup,
  COLLECTOR_CLI,
  connect,
  describeKernel,
  Namespace,
  REPO_ROOT,
  uniqueName,
  waitForOutput,
  type Link,
} from '../helpers/netns';

const NODE_NAME = 'aks-nodepool1-13131313-vmss000000';
const CLUSTER = 'retina-compat-test';
const COLLECTOR_PORT = 10093;
const PROMETHEUS_PORT = 9090;
const SCRAPE_SECONDS = 1;
/** Grafana's $__rate_interval with a 1 s scrape interval: four scrape intervals. */
const RATE_INTERVAL = `${4 * SCRAPE_SECONDS}s`;
const AMA_NODE_CONFIG = path.join(REPO_ROOT, 'deploy', 'azure', 'ama-metrics-prometheus-config-node.yaml');

interface Variables {
  /** Every value of each variable. */
  readonly clusters: readonly string[];
  readonly nodes: readonly string[];
  /** The cluster selected (the first). */
  readonly cluster: string;
  /** The Nodes variable with "All" selected, as Grafana renders a multi-value variable in a regex matcher. */
  readonly nodesRegex: string;
}

/** A panel's query as the dashboard writes it, from the facts. */
function panelQuery(panel: RetinaPanel, variables: Variables): string {
  const filters = (extra: readonly string[]) => {
    const matchers = [...extra];
    if (panel.filters.cluster) matchers.push(`cluster="${variables.cluster}"`);
    if (panel.filters.nodes) matchers.push(`instance=~"${variables.nodesRegex}"`);
    return matchers.length > 0 ? `{${matchers.join(', ')}}` : '';
  };
  const name = metricName(METRICS[panel.metric], RETINA_METRIC_PREFIX);
  const selector = `${name}${filters(panel.matchers.map(([label, op, value]) => `${label}${op}"${value}"`))}`;
  const value = panel.rate ? `rate(${selector}[${RATE_INTERVAL}])` : selector;
  let query = `${panel.by ? `sum by (${panel.by})` : 'sum'} (${value})${panel.positiveOnly ? ' > 0' : ''}`;
  if (panel.interfaceDropsAsReasons) {
    // Each interface drop statistic becomes a `reason` of its own name.
    const interfaceStats = metricName(METRICS.interfaceStats, RETINA_METRIC_PREFIX);
    for (const statistic of ['rx_dropped', 'tx_dropped']) {
      const drops = `rate(${interfaceStats}${filters([`statistic_name="${statistic}"`])}[${RATE_INTERVAL}])`;
      query += ` or sum by (reason) (label_replace(${drops}, "reason", "$1", "statistic_name", "(.*)"))`;
    }
  }
  return query;
}

interface PromResult {
  resultType: string;
  result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
}

const unavailable = prometheusStackUnavailable();
const hasEthtool = spawnSync('sh', ['-c', 'command -v ethtool'], { stdio: 'ignore' }).status === 0;
const runs = unavailable === undefined && hasEthtool;
if (!runs) {
  // eslint-disable-next-line no-console
  console.warn(`skipping the Retina dashboard stack test: ${unavailable ?? 'ethtool is not installed'}`);
}

(runs ? describeKernel : describe.skip)("Retina's node dashboard against the collector in --compat retina", () => {
  let node: Namespace;
  let peer: Namespace;
  let link: Link;
  let collector: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let dataDir: string;
  const tracefsInstance = uniqueName('kr');
  const nftTable = uniqueName('kr');
  let kprobeHist: boolean;
  let uplinkStatistics: string[];
  let variables: Variables;

  /** A Prometheus HTTP API call from inside the node namespace. */
  function api(endpoint: string, params: Record<string, string>): PromResult {
    const args = ['-sS', '--fail-with-body', '--max-time', '20', '-G'];
    for (const [key, value] of Object.entries(params)) args.push('--data-urlencode', `${key}=${value}`);
    const body = JSON.parse(node.exec('curl', ...args, `http://127.0.0.1:${PROMETHEUS_PORT}${endpoint}`)) as {
      status: string;
      data: PromResult;
      error?: string;
    };
    if (body.status !== 'success') throw new Error(`${endpoint} ${JSON.stringify(params)}: ${body.error}`);
    return body.data;
  }
  const instant = (query: string) => api('/api/v1/query', { query });
  function range(query: string, seconds: number): PromResult {
    const end = Math.floor(Date.now() / 1000);
    return api('/api/v1/query_range', { query, start: String(end - seconds), end: String(end), step: '1' });
  }

  /** The ama-metrics node job as ama-metrics runs it on this node, at the test's scrape interval. */
  function prometheusConfig(): string {
    const [configMap] = fs
      .readFileSync(AMA_NODE_CONFIG, 'utf8')
      .split(/^---$/m)
      .map((document) => parse(document) as { data: Record<string, string> });
    const text = configMap!.data['prometheus-config']!.replaceAll('$NODE_IP', '127.0.0.1').replaceAll(
      '$NODE_NAME',
      NODE_NAME,
    );
    const config = parse(text) as {
      global: Record<string, string>;
      scrape_configs: Record<string, unknown>[];
    };
    config.global.scrape_interval = `${SCRAPE_SECONDS}s`;
    const job = config.scrape_configs[0]!;
    job.scrape_interval = `${SCRAPE_SECONDS}s`;
    job.scrape_timeout = `${SCRAPE_SECONDS}s`;
    // What ama-metrics adds itself (its cluster_alias or the cluster name), simulated.
    job.relabel_configs = [...(job.relabel_configs as unknown[]), { target_label: 'cluster', replacement: CLUSTER }];
    return stringify(config);
  }

  function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const poll = () => {
        let ok = false;
        try {
          ok = check();
        } catch {
          ok = false;
        }
        if (ok) resolve();
        else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
        else setTimeout(poll, 500);
      };
      poll();
    });
  }

  beforeAll(async () => {
    ensureCollectorBuilt();
    node = Namespace.create('kr');
    peer = Namespace.create('kr');
    link = connect(node, peer);
    const blackhole = createBlackhole(node, 'bh0', 'bh1', '198.19.66');
    await startDropLoop(node, { closedPort: 9, blackholeAddress: blackhole, purgePort: 4242, intervalMs: 100 });
    const uplinkMac = (JSON.parse(node.exec('ip', '-j', 'link', 'show', link.aIf)) as { address: string }[])[0]!;
    await startUnknownEthertypeLoop(peer, link.bIf, uplinkMac.address, 100);
    // Traffic through the uplink, and a TCP connection to a non-loopback peer.
    peer.spawn('ping', ['-i', '0.2', '-q', link.aAddr4]);
    peer.spawn(process.execPath, ['-e', `require('node:net').createServer((s) => s.resume()).listen(7000)`]);
    node.spawn(process.execPath, [
      '-e',
      `const s = require('node:net').connect(7000, '${link.bAddr4}'); setInterval(() => s.write('x'), 200);`,
    ]);

    collector = node.spawn(process.execPath, [
      ...collectorNodeFlags(),
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${COLLECTOR_PORT}`,
      '--compat',
      'retina',
      '--node-name',
      NODE_NAME,
      '--tracefs-instance',
      tracefsInstance,
      '--nft-table',
      nftTable,
    ]);
    await waitForOutput(collector, /serving \/metrics/, 60_000);

    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-retina-'));
    fs.writeFileSync(path.join(dataDir, 'prometheus.yml'), prometheusConfig());
    prometheus = node.spawn(PROMETHEUS_BINARY, [
      `--config.file=${path.join(dataDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dataDir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
    ]);
    await waitForOutput(prometheus, /Server is ready to receive web requests/, 60_000);
    await waitFor('8 successful scrapes', () => {
      const result = instant('sum_over_time(up[1h])');
      return Number(result.result[0]?.value?.[1] ?? 0) >= 8;
    });

    kprobeHist =
      node
        .exec(
          'sh',
          '-c',
          `${MOUNT_TRACEFS}; ` +
            'if [ -e /sys/kernel/tracing/kprobe_events ] && grep -q hist /sys/kernel/tracing/README; then echo yes; else echo no; fi',
        )
        .trim() === 'yes';
    uplinkStatistics = [...parseEthtoolStatistics(node.exec('ethtool', '-S', link.aIf)).keys()];
    // The variables as Grafana fills them: label_values(up, cluster), label_values(up{cluster="$cluster"}, instance).
    const { cluster, Nodes } = RETINA_DASHBOARD_VARIABLES;
    const clusters = [...new Set(instant(cluster.metric).result.map((s) => s.metric[cluster.label]!))];
    const nodes = [
      ...new Set(instant(`${Nodes.metric}{cluster="${clusters[0]}"}`).result.map((s) => s.metric[Nodes.label]!)),
    ];
    variables = { clusters, nodes, cluster: clusters[0]!, nodesRegex: `(${nodes.map(escapePromRegex).join('|')})` };
  }, 180_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    if (collector && collector.exitCode === null) {
      // SIGTERM: the collector removes its tracefs instance and nft table itself.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 15_000);
        collector!.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        collector!.kill('SIGTERM');
      });
    }
    try {
      if (node) removeTracefsInstances(node, tracefsInstance);
    } finally {
      cleanup();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  /** Why this machine cannot fill a panel, checked here; undefined when it can. */
  function unavailableHere(panel: RetinaPanel): string | undefined {
    const need = panel.needs;
    if (need?.kind === 'kprobe-hist' && !kprobeHist) {
      return 'dropped bytes need kprobe events and hist triggers, and this kernel has no kprobe_events in tracefs';
    }
    if (need?.kind === 'driver-statistic' && !uplinkStatistics.some((name) => need.statistic.test(name))) {
      return `the uplink is a veth, whose driver statistics (${uplinkStatistics.join(', ')}) have none matching ${need.statistic}; drivers that have it: ${need.drivers}`;
    }
    return undefined;
  }

  it('fills the cluster variable from up, and the Nodes variable with the node name (instance), not an address', () => {
    expect(variables.clusters).toEqual([CLUSTER]);
    expect(variables.nodes).toEqual([NODE_NAME]);
  });

  it('excuses only panels that need what some nodes lack, each for a reason checked on this machine', () => {
    const excused = RETINA_DASHBOARD_PANELS.filter((panel) => unavailableHere(panel) !== undefined);
    expect(excused.every((panel) => panel.needs !== undefined)).toBe(true);
    // On this machine: no kprobe events, a veth uplink. Listed so that a change here is seen, with the reasons.
    const reasons = Object.fromEntries(excused.map((panel) => [panel.title, unavailableHere(panel)]));
    // eslint-disable-next-line no-console
    console.log(`panels this machine cannot fill:\n${JSON.stringify(reasons, null, 2)}`);
    for (const title of ['Rx Cache Full error', 'Tx No Op Errors', 'Rx Comp Full Errors', 'Tx Send Full Errors']) {
      expect(Object.keys(reasons)).toContain(title);
    }
  });

  it("stores the uplink's driver statistics under the names ethtool -S prints (what the NIC panels read)", () => {
    const name = metricName(METRICS.interfaceStats, RETINA_METRIC_PREFIX);
    const stored = instant(`${name}{interface_name="${link.aIf}", instance="${NODE_NAME}"}`).result.map(
      (s) => s.metric.statistic_name,
    );
    for (const statistic of uplinkStatistics) expect(stored).toContain(statistic);
  });

  it.each(RETINA_DASHBOARD_PANELS.map((panel) => [`${panel.row} / ${panel.title}`, panel] as const))(
    '%s',
    (_title, panel) => {
      const query = panelQuery(panel, variables);
      const series = panel.instant
        ? instant(query).result.length
        : range(query, 20).result.filter((s) => (s.values ?? []).length > 0).length;
      const excuse = unavailableHere(panel);
      if (excuse) {
        expect(series).toBeGreaterThanOrEqual(0);
        return;
      }
      expect({ query, series: series > 0 }).toEqual({ query, series: true });
    },
  );
});
