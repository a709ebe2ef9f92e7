/**
 * The enslaved-uplink node shape with a real bond, which the CI kernel cannot build (no bonding module there; the
 * host's node-shape test imitates it with a bridge): in namespace `bn` the node's `eth0` is the only slave of `bond0`
 * (active-backup), which holds the node's address and the default route to `bo`, the outside, behind `eth0`'s veth
 * peer. A collector serving in `bn` (netdev and forward only) must count every packet once:
 *  - forward_* on the bond (the uplink rule: a device enslaved to a non-bridge master is replaced by its master), equal
 *    to bond0's counters in `ip -s -s -j link`, which are eth0's folded (bond_get_stats);
 *  - interface_stats of bond0 and eth0 each as `ip` shows them (the same packets on both: the README says not to add
 *    them), neither inside pod_interfaces.
 * The reading is taken between two `ip -s -s -j link` that agree (nothing moved).
 */
import * as assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { LABEL, METRICS, metricName, POD_INTERFACES_AGGREGATE } from '@kappie/collector/catalog';
import { RunningCollector, Scrape } from './collector';
import { Agent, inNamespace, run } from './namespaces';
import type { GuestRunner } from './runner';

const NODE = 'bn';
const OUTSIDE = 'bo';
const NODE_ADDRESS = '198.18.1.2';
const OUTSIDE_ADDRESS = '198.18.1.1';
const DATAGRAMS = 200;

interface LinkCounters {
  rx: { bytes: number; packets: number };
  tx: { bytes: number; packets: number };
}

/** bond0's and eth0's counters as `ip -s -s -j link` prints them in the node namespace. */
function ipLinks(): Map<string, LinkCounters> {
  const links = JSON.parse(run('ip', '-n', NODE, '-s', '-s', '-j', 'link')) as {
    ifname: string;
    stats64: LinkCounters;
  }[];
  return new Map(
    links
      .filter((link) => link.ifname === 'bond0' || link.ifname === 'eth0')
      .map((link) => [link.ifname, { rx: { ...link.stats64.rx }, tx: { ...link.stats64.tx } }]),
  );
}

function buildShape(): void {
  for (const ns of [NODE, OUTSIDE]) {
    run('ip', 'netns', 'add', ns);
    inNamespace(ns, 'sh', '-c', 'for c in all default; do echo 1 > /proc/sys/net/ipv6/conf/$c/disable_ipv6; done');
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  }
  run('ip', 'link', 'add', 'kteth0', 'type', 'veth', 'peer', 'name', 'ktwan0');
  run('ip', 'link', 'set', 'kteth0', 'netns', NODE, 'name', 'eth0');
  run('ip', 'link', 'set', 'ktwan0', 'netns', OUTSIDE, 'name', 'wan0');
  run('ip', '-n', NODE, 'link', 'add', 'bond0', 'type', 'bond', 'mode', 'active-backup', 'miimon', '100');
  run('ip', '-n', NODE, 'link', 'set', 'eth0', 'master', 'bond0');
  run('ip', '-n', NODE, 'addr', 'add', `${NODE_ADDRESS}/24`, 'dev', 'bond0');
  run('ip', '-n', NODE, 'link', 'set', 'bond0', 'up');
  run('ip', '-n', OUTSIDE, 'addr', 'add', `${OUTSIDE_ADDRESS}/24`, 'dev', 'wan0');
  run('ip', '-n', OUTSIDE, 'link', 'set', 'wan0', 'up');
  run('ip', '-n', NODE, 'route', 'add', 'default', 'via', OUTSIDE_ADDRESS);
}

/** Waits until the bond has its slave active (miimon sees the veth's carrier). */
async function bondUp(): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const active = inNamespace(NODE, 'cat', '/sys/class/net/bond0/bonding/active_slave').trim();
    if (active === 'eth0') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('bond0 never made eth0 its active slave');
}

function removeShape(): void {
  run('sh', '-c', `ip netns delete ${NODE} 2>/dev/null; ip netns delete ${OUTSIDE} 2>/dev/null; true`);
}

export function registerBondTests(runner: GuestRunner): void {
  runner.test('a real bond over the uplink: forward_* and interface_stats count every packet once', async () => {
    let collector: RunningCollector | undefined;
    let agent: Agent | undefined;
    try {
      buildShape();
      await bondUp();
      collector = await RunningCollector.start(
        ['--sources', 'netdev,forward'],
        ['ip', 'netns', 'exec', NODE],
        /ready: the sources are started/,
      );
      agent = await Agent.start(NODE);
      // Datagrams to a closed port of the outside: out through the bond, ICMP errors (rate-limited) and ARP back.
      await agent.send({ op: 'udp', to: OUTSIDE_ADDRESS, port: 9, count: DATAGRAMS, size: 100 });

      let reading: { scrape: Scrape; links: Map<string, LinkCounters> } | undefined;
      for (let attempt = 0; attempt < 8 && reading === undefined; attempt++) {
        const before = ipLinks();
        const scrape = Scrape.inNamespace(NODE);
        if (isDeepStrictEqual(before, ipLinks())) reading = { scrape, links: before };
      }
      assert.ok(reading, 'the bond never stood still for a reading');
      const { scrape, links } = reading;
      const bond = links.get('bond0')!;
      const slave = links.get('eth0')!;

      // The shape: every packet crossed eth0 and the bond, whose counters are eth0's folded.
      assert.ok(slave.tx.packets >= DATAGRAMS, `eth0 sent ${slave.tx.packets} packets, fewer than ${DATAGRAMS}`);
      assert.deepEqual(bond, slave, 'bond0 counts what its only slave counts');

      const forward = (metric: 'forwardCount' | 'forwardBytes', direction: string) =>
        scrape.value(metricName(METRICS[metric]), { [LABEL.direction]: direction });
      assert.deepEqual(
        {
          ingressPackets: forward('forwardCount', 'ingress'),
          ingressBytes: forward('forwardBytes', 'ingress'),
          egressPackets: forward('forwardCount', 'egress'),
          egressBytes: forward('forwardBytes', 'egress'),
        },
        {
          ingressPackets: bond.rx.packets,
          ingressBytes: bond.rx.bytes,
          egressPackets: bond.tx.packets,
          egressBytes: bond.tx.bytes,
        },
        'forward_* counts the bond once, not the bond and its slave',
      );

      const ifStat = (name: string, statistic: string) =>
        scrape.value(metricName(METRICS.interfaceStats), {
          [LABEL.interfaceName]: name,
          [LABEL.statisticName]: statistic,
        });
      for (const [name, counters] of links) {
        assert.deepEqual(
          [
            name,
            ifStat(name, 'rx_packets'),
            ifStat(name, 'tx_packets'),
            ifStat(name, 'rx_bytes'),
            ifStat(name, 'tx_bytes'),
          ],
          [name, counters.rx.packets, counters.tx.packets, counters.rx.bytes, counters.tx.bytes],
        );
      }
      assert.equal(ifStat(POD_INTERFACES_AGGREGATE, 'rx_packets'), undefined, 'no pod interfaces on this node');
    } finally {
      agent?.stop();
      if (collector) await collector.stop('SIGTERM');
      removeShape();
    }
  });
}
