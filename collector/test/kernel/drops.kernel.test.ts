/**
 * Drops by reason on the real kernel: a namespace with an nftables drop rule, real datagrams and connection attempts,
 * the real collector streaming skb:kfree_skb from its own tracefs instance.
 *
 * tracefs instances see every namespace's drops (other tests run at the same time), so counts are asserted as lower
 * bounds, and exact comparisons are made between the kernel's own per-namespace counters (nft rule counter, Udp
 * NoPorts) and the number of packets this test sent.
 */
import type { ChildProcess } from 'node:child_process';
import { LABEL, METRICS, metricName } from '../../src/catalog';
import {
  cleanup,
  COLLECTOR_CLI,
  connect,
  describeKernel,
  Namespace,
  uniqueName,
  waitForOutput,
} from '../helpers/netns';
import { MOUNT_TRACEFS, removeTracefsInstances, tracefsInstances } from '../helpers/tracefs-instances';

const PORT = 10093;
const NFT_DROPPED_PORT = 7777;
const NFT_EGRESS_DROPPED_PORT = 7778;
const CLOSED_PORT = 9;
const N = 40;

function sendDatagrams(ns: Namespace, port: number, count: number, address = '127.0.0.1'): void {
  const script = `
    const s = require('node:dgram').createSocket('${address.includes(':') ? 'udp6' : 'udp4'}');
    s.on('error', () => {});
    let left = ${count};
    const next = () => left-- > 0 ? s.send('x', ${port}, '${address}', next) : s.close();
    next();`;
  ns.exec(process.execPath, '-e', script);
}

function tcpAttempts(ns: Namespace, port: number, count: number): void {
  const script = `
    let left = ${count};
    const next = () => {
      if (left-- <= 0) return;
      const c = require('node:net').connect(${port}, '127.0.0.1');
      c.on('error', next);
      c.on('connect', () => { c.destroy(); next(); });
    };
    next();`;
  ns.exec(process.execPath, '-e', script);
}

/** drop_count series of a scrape, by "REASON/direction". */
function dropCounts(text: string): Map<string, number> {
  const name = metricName(METRICS.dropCount);
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const reason = new RegExp(`${LABEL.reason}="([^"]+)"`).exec(line)![1];
    const direction = new RegExp(`${LABEL.direction}="([^"]+)"`).exec(line)![1];
    counts.set(`${reason}/${direction}`, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return counts;
}

function lostEvents(text: string, source: string): number {
  const name = metricName(METRICS.sourceLostEvents);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${LABEL.source}="${source}"`));
  return Number(line!.slice(line!.lastIndexOf(' ') + 1));
}

function snmpValue(ns: Namespace, proto: string, field: string): number {
  const lines = ns.exec('cat', '/proc/net/snmp').split('\n');
  const header = lines.find((l) => l.startsWith(`${proto}: `) && /[A-Za-z]/.test(l.slice(proto.length + 2)))!;
  const values = lines[lines.indexOf(header) + 1]!.split(' ');
  return Number(values[header.split(' ').indexOf(field)]);
}

describeKernel('drops by reason from skb:kfree_skb in a tracefs instance', () => {
  let ns: Namespace;
  let table: string;
  const instance = uniqueName('kt');
  let collector: ChildProcess | undefined;
  let startLog = '';
  /** Everything the running collector logged so far. */
  let collectorLog = '';

  function startCollector(): Promise<string> {
    collector = ns.spawn(process.execPath, [
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${PORT}`,
      '--sources',
      'drops',
      '--tracefs-instance',
      instance,
    ]);
    let log = '';
    collectorLog = '';
    collector.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      collectorLog += chunk.toString();
    });
    return waitForOutput(collector, /streaming kfree_skb drops/).then(() => log);
  }

  function stopCollector(signal: NodeJS.Signals): Promise<void> {
    const child = collector!;
    collector = undefined;
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  const scrape = () => ns.fetchText(`http://127.0.0.1:${PORT}/metrics`);

  beforeAll(async () => {
    ns = Namespace.create();
    table = uniqueName('kt');
    ns.exec('nft', 'add', 'table', 'inet', table);
    ns.exec('nft', `add chain inet ${table} input { type filter hook input priority 0; }`);
    ns.exec('nft', `add chain inet ${table} output { type filter hook output priority 0; }`);
    ns.exec('nft', `add rule inet ${table} input udp dport ${NFT_DROPPED_PORT} counter drop`);
    ns.exec('nft', `add rule inet ${table} output udp dport ${NFT_EGRESS_DROPPED_PORT} counter drop`);
    startLog = await startCollector();
  });

  afterAll(async () => {
    if (collector) await stopCollector('SIGTERM');
    // Whatever happened, leave no instance of ours behind.
    try {
      removeTracefsInstances(ns, instance);
    } finally {
      cleanup();
    }
  });

  function nftCounter(chain: string): number {
    const json = JSON.parse(ns.exec('nft', '-j', 'list', 'chain', 'inet', table, chain)) as {
      nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[];
    };
    const rule = json.nftables.find((item) => item.rule)!.rule!;
    return rule.expr.find((e) => e.counter)!.counter!.packets;
  }

  it('mounts tracefs when it is not mounted, and says so', () => {
    // `ip netns exec` gives the collector a fresh /sys without tracefs: it had to mount it.
    expect(startLog).toMatch(/tracefs was not mounted: mounted it at \/sys\/kernel\/tracing/);
    expect(tracefsInstances(ns)).toContain(instance);
  });

  it(`counts datagrams dropped by an nft rule as NETFILTER_DROP, ingress and egress, at least as the rule counter says`, () => {
    const before = dropCounts(scrape());
    const ruleIn = nftCounter('input');
    const ruleOut = nftCounter('output');
    sendDatagrams(ns, NFT_DROPPED_PORT, N);
    sendDatagrams(ns, NFT_EGRESS_DROPPED_PORT, N);
    const text = scrape();
    const after = dropCounts(text);
    expect(nftCounter('input') - ruleIn).toBe(N);
    expect(nftCounter('output') - ruleOut).toBe(N);
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta('NETFILTER_DROP/ingress')).toBeGreaterThanOrEqual(N);
    expect(delta('NETFILTER_DROP/egress')).toBeGreaterThanOrEqual(N);
    expect(lostEvents(text, 'drop_reasons')).toBe(0);
  });

  it('counts datagrams to a closed port as NO_SOCKET/ingress, at least as Udp NoPorts moved', () => {
    const before = dropCounts(scrape());
    const noPorts = snmpValue(ns, 'Udp', 'NoPorts');
    sendDatagrams(ns, CLOSED_PORT, N);
    const after = dropCounts(scrape());
    expect(snmpValue(ns, 'Udp', 'NoPorts') - noPorts).toBe(N);
    expect((after.get('NO_SOCKET/ingress') ?? 0) - (before.get('NO_SOCKET/ingress') ?? 0)).toBeGreaterThanOrEqual(N);
  });

  /** Runs a shell command on our instance's directory (mounting tracefs in the command's mount namespace if needed). */
  function inInstance(command: string): string {
    return ns.exec('sh', '-c', `${MOUNT_TRACEFS}; cd /sys/kernel/tracing/instances/${instance} && ${command}`);
  }

  it.each([
    ['the event switched off', 'echo 0 > events/skb/kfree_skb/enable'],
    [
      'a reset of the instance (filter cleared, event and tracing off)',
      'echo 0 > events/skb/kfree_skb/filter; echo 0 > events/skb/kfree_skb/enable; echo 0 > tracing_on',
    ],
  ])(
    'after %s from outside, 200 closed-port drops are counted as lost, the instance restored and logged',
    async (_, change) => {
      const lostBefore = lostEvents(scrape(), 'drop_reasons');
      const logBefore = collectorLog.length;
      inInstance(change);
      const noPorts = snmpValue(ns, 'Udp', 'NoPorts');
      sendDatagrams(ns, CLOSED_PORT, 200);
      expect(snmpValue(ns, 'Udp', 'NoPorts') - noPorts).toBe(200);
      const text = scrape();
      expect(lostEvents(text, 'drop_reasons') - lostBefore).toBeGreaterThanOrEqual(200);
      for (let i = 0; i < 50 && !collectorLog.slice(logBefore).includes('changed from outside'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(collectorLog.slice(logBefore)).toMatch(/tracefs instance had been changed from outside/);
      expect(inInstance('cat events/skb/kfree_skb/enable tracing_on')).toMatch(/^1\*?\n1\n$/);
      expect(inInstance('cat events/skb/kfree_skb/filter')).toContain('protocol != 0');
      // Counting again.
      const before = dropCounts(text);
      sendDatagrams(ns, CLOSED_PORT, N);
      const after = dropCounts(scrape());
      expect((after.get('NO_SOCKET/ingress') ?? 0) - (before.get('NO_SOCKET/ingress') ?? 0)).toBeGreaterThanOrEqual(N);
    },
  );

  it('shows a TCP connection attempt to a closed port as the kernel names it: NO_SOCKET on ingress (the SYN)', () => {
    const before = dropCounts(scrape());
    const resets = snmpValue(ns, 'Tcp', 'OutRsts');
    tcpAttempts(ns, CLOSED_PORT, 10);
    const after = dropCounts(scrape());
    // Each SYN to a closed port is answered with a RST and freed in tcp_v4_rcv with reason NO_SOCKET.
    expect(snmpValue(ns, 'Tcp', 'OutRsts') - resets).toBe(10);
    expect((after.get('NO_SOCKET/ingress') ?? 0) - (before.get('NO_SOCKET/ingress') ?? 0)).toBeGreaterThanOrEqual(10);
  });

  it('never takes over the instance of a live collector: a snapshot reads its totals, or counts in its own', () => {
    // Found where it serves (127.0.0.1:10093 in this namespace): its totals, nothing installed.
    const read = ns.snapshot('--sources', 'drops', '--tracefs-instance', instance);
    expect(read.sources).toEqual([expect.objectContaining({ name: 'drop_reasons', up: true })]);
    expect(tracefsInstances(ns)).not.toContain(`${instance}-snapshot`);
    // Told to read tracefs events at once: refused before anything is touched (events need a window to count in).
    expect(() =>
      ns.snapshot(
        ...['--from', 'none', '--duration', '0', '--sources', 'drops', '--drop-reader', 'tracefs'],
        ...['--tracefs-instance', instance],
      ),
    ).toThrow(/failed \(2\): kappie: invalid --drop-reader: "tracefs" counts tracefs events over a window/);
    expect(tracefsInstances(ns)).not.toContain(`${instance}-snapshot`);
    // Told to gather here at once: the kernel counters, never the serving instance.
    const auto = ns.snapshot('--from', 'none', '--duration', '0', '--sources', 'drops', '--tracefs-instance', instance);
    expect(auto.sources).toEqual([
      expect.objectContaining({
        name: 'drop_counters',
        up: true,
        reason: expect.stringMatching(/as kappie snapshot --duration 0 reads them/),
      }),
    ]);
    // Told to gather here over a window: in an instance of its own, beside the serving one, removed at the end.
    const windowed = ns.snapshot(
      '--from',
      'none',
      '--duration',
      '0.5',
      '--sources',
      'drops',
      '--tracefs-instance',
      instance,
    );
    expect(windowed.sources).toEqual([expect.objectContaining({ name: 'drop_reasons', up: true })]);
    expect(tracefsInstances(ns)).toContain(instance);
    expect(tracefsInstances(ns)).not.toContain(`${instance}-snapshot`);
    const before = dropCounts(scrape()).get('NO_SOCKET/ingress') ?? 0;
    sendDatagrams(ns, CLOSED_PORT, 3);
    expect(dropCounts(scrape()).get('NO_SOCKET/ingress') ?? 0).toBeGreaterThanOrEqual(before + 3);
  });

  it('counts with tracefs events only while they work: no counter series, status drop_reasons (no drop twice)', () => {
    const text = scrape();
    const counts = dropCounts(text);
    // The counters strategy's own reasons (NETDEV_RX_MISSED is a drop the tracepoint never names: untraced-drops.ts).
    const countersOnly = ['NETDEV_RX_DROP/', 'NETDEV_TX_DROP/', 'IP_INDISCARDS/'];
    expect([...counts.keys()].filter((key) => countersOnly.some((prefix) => key.startsWith(prefix)))).toEqual([]);
    const up = metricName(METRICS.sourceUp);
    expect(text.split('\n').filter((line) => line.startsWith(`${up}{${LABEL.source}="drop_`))).toEqual([
      expect.stringMatching(new RegExp(`^${up}\\{${LABEL.source}="drop_reasons".* 1$`)),
    ]);
  });

  it('removes its instance on SIGTERM; after SIGKILL the next start replaces the stale one and works', async () => {
    await stopCollector('SIGTERM');
    expect(tracefsInstances(ns)).not.toContain(instance);

    await startCollector();
    expect(tracefsInstances(ns)).toContain(instance);
    await stopCollector('SIGKILL');
    expect(tracefsInstances(ns)).toContain(instance);

    const log = await startCollector();
    expect(log).toMatch(/removed a stale tracefs instance/);
    const before = dropCounts(scrape()).get('NO_SOCKET/ingress') ?? 0;
    sendDatagrams(ns, CLOSED_PORT, N);
    expect(dropCounts(scrape()).get('NO_SOCKET/ingress') ?? 0).toBeGreaterThanOrEqual(before + N);
    await stopCollector('SIGTERM');
    expect(tracefsInstances(ns)).not.toContain(instance);
  });

  it('falls back to the kernel counters without tracefs: NO_SOCKET equals Udp NoPorts + Udp6NoPorts', () => {
    sendDatagrams(ns, CLOSED_PORT, 5);
    const gathering = ns.snapshot('--sources', 'drops', '--tracefs-path', '/nonexistent-tracefs');
    const status = Object.fromEntries(gathering.sources.map((s) => [s.name, s.up]));
    expect(status).toEqual({ drop_counters: true });
    const noSocket = (gathering.samples.dropCount ?? []).find(
      (s) => s.labels[LABEL.reason] === 'NO_SOCKET' && s.labels[LABEL.direction] === 'ingress',
    );
    const v6 = Number(/Udp6NoPorts\s+(\d+)/.exec(ns.exec('cat', '/proc/net/snmp6'))![1]);
    expect(noSocket?.value).toBe(snmpValue(ns, 'Udp', 'NoPorts') + v6);
  });
});

describeKernel('drops by reason from the kernel counters on a router', () => {
  let sender: Namespace;
  let router: Namespace;
  beforeAll(() => {
    sender = Namespace.create();
    router = Namespace.create();
    connect(sender, router); // the sender's default route goes through the router
    router.exec('sysctl', '-qw', 'net.ipv4.ip_forward=1');
  });
  afterAll(cleanup);

  it('counts IPv4 packets the router has no route for as IP_INNOROUTES (IpExt InNoRoutes), as tracefs names them', () => {
    const N = 19;
    sendDatagrams(sender, 9, N, '198.51.100.9');
    const inNoRoutes = Number(/IpExtInNoRoutes\s+(\d+)/.exec(router.exec('nstat', '-asz', 'IpExtInNoRoutes'))![1]);
    expect(inNoRoutes).toBe(N);
    const gathering = router.snapshot('--sources', 'drops', '--from', 'none', '--duration', '0');
    const counted = (gathering.samples.dropCount ?? []).find(
      (s) => s.labels[LABEL.reason] === 'IP_INNOROUTES' && s.labels[LABEL.direction] === 'ingress',
    );
    expect(counted?.value).toBe(inNoRoutes);
  });
});
