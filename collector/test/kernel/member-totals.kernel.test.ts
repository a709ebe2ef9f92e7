/**
 * Totals over a changing set of members (forward_* over the uplinks, pod_interfaces over the pod veths) in network
 * namespaces, through the real collector's /metrics: the default route leaving and coming back, moving to a second
 * uplink and back, an uplink or a pod veth renamed. Each total must stay what the kernel counted on the members it
 * covers, as `ip -s link` reads them just before and just after the scrape: a member that comes back (same ifindex)
 * adds only its growth, never its lifetime again.
 */
import { DIRECTION, LABEL, metricName, METRICS, POD_INTERFACES_AGGREGATE } from '../../src/catalog';
import {
  cleanup,
  COLLECTOR_CLI,
  connect,
  describeKernel,
  Namespace,
  run,
  uniqueName,
  waitForOutput,
  type Link,
} from '../helpers/netns';

interface LinkCounters {
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly txPackets: number;
}

/** Each interface's counters as `ip -j -s link` reads them (rtnetlink IFLA_STATS64). */
function ipCounters(ns: Namespace): Map<string, LinkCounters> {
  const links = JSON.parse(ns.exec('ip', '-j', '-s', 'link', 'show')) as {
    ifname: string;
    stats64: { rx: { bytes: number; packets: number }; tx: { packets: number } };
  }[];
  return new Map(
    links.map(({ ifname, stats64 }) => [
      ifname.replace(/@.*$/, ''),
      { rxBytes: stats64.rx.bytes, rxPackets: stats64.rx.packets, txPackets: stats64.tx.packets },
    ]),
  );
}

/** The value of the one series of `metric` whose labels include `labels`, or undefined when there is none. */
function seriesValue(text: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const labelText = line.slice(metric.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([name, value]) => labelText.includes(`${name}="${value}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

const FORWARD_BYTES = metricName(METRICS.forwardBytes);
const FORWARD_COUNT = metricName(METRICS.forwardCount);
const INTERFACE_STATS = metricName(METRICS.interfaceStats);

/** A collector serving /metrics inside `ns`, and a scrape that also reads `ip -s link` just before and after. */
async function serveIn(ns: Namespace, sources: string) {
  const server = ns.spawn(process.execPath, [COLLECTOR_CLI, 'serve', '--listen', '127.0.0.1:0', '--sources', sources]);
  const port = /port (\d+)/.exec(await waitForOutput(server, /serving \/metrics on port \d+/))![1];
  return {
    scrape() {
      const before = ipCounters(ns);
      const text = ns.fetchText(`http://127.0.0.1:${port}/metrics`);
      const after = ipCounters(ns);
      return { text, before, after };
    },
    stop: () => server.kill('SIGTERM'),
  };
}

type Scrape = { before: Map<string, LinkCounters>; after: Map<string, LinkCounters> };

/**
 * Expects `value` between the sum of `pick` over `members` as read before, and as read after, their scrape: each
 * member counts what it showed at the scrape where the collector last saw it as an uplink.
 */
function expectBetween(
  value: number | undefined,
  members: readonly { readonly name: string; readonly lastSeenAt: Scrape }[],
  pick: (counters: LinkCounters) => number,
): void {
  const sum = (when: 'before' | 'after') =>
    members.reduce((total, { name, lastSeenAt }) => total + pick(lastSeenAt[when].get(name)!), 0);
  expect(value).toBeDefined();
  expect([value! >= sum('before'), value! <= sum('after'), value, sum('after')]).toEqual([
    true,
    true,
    value,
    sum('after'),
  ]);
}

/** A second veth uplink from `node` to `outside` (IPv4 only), without a default route. */
function secondUplink(node: Namespace, outside: Namespace): { name: string; gateway: string } {
  const name = uniqueName('up');
  const peer = uniqueName('pe');
  const subnet = 100 + Math.floor(Math.random() * 100);
  run('ip', ['link', 'add', name, 'netns', node.name, 'type', 'veth', 'peer', 'name', peer, 'netns', outside.name]);
  node.ip('addr', 'add', `198.19.${subnet}.1/24`, 'dev', name);
  outside.ip('addr', 'add', `198.19.${subnet}.2/24`, 'dev', peer);
  node.ip('link', 'set', name, 'up');
  outside.ip('link', 'set', peer, 'up');
  return { name, gateway: `198.19.${subnet}.2` };
}

const ping = (ns: Namespace, address: string) => ns.exec('ping', '-c', '5', '-i', '0.01', '-W', '2', '-q', address);
const ingressBytes = (text: string) => seriesValue(text, FORWARD_BYTES, { [LABEL.direction]: DIRECTION.ingress });

describeKernel('totals over changing members (forward uplinks, pod veths) in namespaces', () => {
  let node: Namespace;
  let outside: Namespace;
  let link: Link;
  beforeEach(() => {
    node = Namespace.create();
    outside = Namespace.create();
    link = connect(node, outside);
    ping(node, link.bAddr4);
  });
  afterEach(cleanup);

  it('forward_bytes does not change when the default route leaves for one scrape and comes back', async () => {
    const collector = await serveIn(node, 'forward');
    const first = collector.scrape();
    expectBetween(ingressBytes(first.text), [{ name: link.aIf, lastSeenAt: first }], (c) => c.rxBytes);
    node.ip('route', 'del', 'default');
    node.ip('-6', 'route', 'del', 'default');
    expect(ingressBytes(collector.scrape().text)).toBeUndefined();
    node.ip('route', 'add', 'default', 'via', link.bAddr4);
    node.ip('-6', 'route', 'add', 'default', 'via', link.bAddr6);
    const back = collector.scrape();
    // The uplink's lifetime once, not twice.
    expectBetween(ingressBytes(back.text), [{ name: link.aIf, lastSeenAt: back }], (c) => c.rxBytes);
    collector.stop();
  });

  it('forward_bytes counts each uplink once when the default route moves to a second uplink and back', async () => {
    node.ip('-6', 'route', 'del', 'default');
    const second = secondUplink(node, outside);
    const collector = await serveIn(node, 'forward');
    const first = collector.scrape();
    expectBetween(ingressBytes(first.text), [{ name: link.aIf, lastSeenAt: first }], (c) => c.rxBytes);
    node.ip('route', 'replace', 'default', 'via', second.gateway);
    ping(node, second.gateway);
    const moved = collector.scrape();
    // The first uplink as last seen (what it received since, IPv6 neighbour traffic, counts when it is back).
    expectBetween(
      ingressBytes(moved.text),
      [
        { name: link.aIf, lastSeenAt: first },
        { name: second.name, lastSeenAt: moved },
      ],
      (c) => c.rxBytes,
    );
    node.ip('route', 'replace', 'default', 'via', link.bAddr4);
    const back = collector.scrape();
    expectBetween(
      ingressBytes(back.text),
      [
        { name: link.aIf, lastSeenAt: back },
        { name: second.name, lastSeenAt: moved },
      ],
      (c) => c.rxBytes,
    );
    collector.stop();
  });

  it('forward_count does not add the lifetime of a renamed uplink again', async () => {
    node.ip('-6', 'route', 'del', 'default');
    const collector = await serveIn(node, 'forward');
    const rxPackets = (text: string) => seriesValue(text, FORWARD_COUNT, { [LABEL.direction]: DIRECTION.ingress });
    const first = collector.scrape();
    expectBetween(rxPackets(first.text), [{ name: link.aIf, lastSeenAt: first }], (c) => c.rxPackets);
    let name = link.aIf;
    for (let rename = 0; rename < 2; rename++) {
      // A veth is renamed while down; going down takes its routes with it.
      const renamed = uniqueName('wan');
      node.ip('link', 'set', name, 'down');
      node.ip('link', 'set', name, 'name', renamed);
      node.ip('link', 'set', renamed, 'up');
      node.ip('route', 'add', 'default', 'via', link.bAddr4);
      name = renamed;
      const after = collector.scrape();
      expectBetween(rxPackets(after.text), [{ name, lastSeenAt: after }], (c) => c.rxPackets);
    }
    collector.stop();
  });

  it('pod_interfaces does not add the lifetime of a renamed pod veth again', async () => {
    const pod = Namespace.create();
    const podPeer = uniqueName('kp');
    let veth = uniqueName('veth');
    run('ip', ['link', 'add', veth, 'netns', node.name, 'type', 'veth', 'peer', 'name', podPeer, 'netns', pod.name]);
    node.ip('addr', 'add', '198.19.78.1/24', 'dev', veth);
    pod.ip('addr', 'add', '198.19.78.2/24', 'dev', podPeer);
    node.ip('link', 'set', veth, 'up');
    pod.ip('link', 'set', podPeer, 'up');
    ping(node, '198.19.78.2');
    const collector = await serveIn(node, 'netdev');
    const podTx = (text: string) =>
      seriesValue(text, INTERFACE_STATS, {
        [LABEL.interfaceName]: POD_INTERFACES_AGGREGATE,
        [LABEL.statisticName]: 'tx_packets',
      });
    const first = collector.scrape();
    expectBetween(podTx(first.text), [{ name: veth, lastSeenAt: first }], (c) => c.txPackets);
    const renamed = uniqueName('veth');
    node.ip('link', 'set', veth, 'down');
    node.ip('link', 'set', veth, 'name', renamed);
    node.ip('link', 'set', renamed, 'up');
    veth = renamed;
    const after = collector.scrape();
    expectBetween(podTx(after.text), [{ name: veth, lastSeenAt: after }], (c) => c.txPackets);
    collector.stop();
  });
});
