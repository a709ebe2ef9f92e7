/**
 * Real drops in the guest's namespaces, each checked EXACTLY against the kernel's own account of it: nothing else
 * runs in the VM, so kappie_drop_count for a reason must grow by precisely what the kernel's per-namespace
 * counters (the /proc/net/snmp and netstat counters nstat shows) or an nftables rule counter say was dropped, and
 * kappie_drop_bytes by what the rule counters measured.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { INSTANCE, Scrape } from './collector';
import {
  kernelCounters,
  PORT_CLOSED,
  PORT_LISTEN,
  PORT_NFT_EGRESS,
  PORT_NFT_INGRESS,
  reasonNames,
  requireCollector,
  ruleCounter,
  TRACEFS,
  type SuiteContext,
} from './context';
import { growth } from './kernel-counters';
import { ADDRESS_A, ADDRESS_B, UNROUTED, type Agent } from './namespaces';
import type { GuestRunner } from './runner';

const N = 25;
/** Accept queue of the listener: listen(2) backlog 1 holds 2 connections. */
const BACKLOG = 1;
const CONNECTIONS = 6;
const PAYLOAD = 100;
/** IPv4 header without options: pulled off the skb before UDP looks for a socket. */
const IPV4_HEADER = 20;

/** Counters of namespaces, read until two readings in a row agree (nothing left in flight). */
async function settledCounters(agents: readonly Agent[]): Promise<Map<string, number>[]> {
  let previous = '';
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const readings: Map<string, number>[] = [];
    for (const agent of agents) readings.push(await kernelCounters(agent));
    const now = JSON.stringify(readings.map((reading) => [...reading]));
    if (now === previous) return readings;
    previous = now;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the kernel counters kept moving');
}

/** What to look at when a count is off: the collector's sources, lost events and last log lines. */
function diagnosis(context: SuiteContext, scrape: Scrape): string {
  const log = context.collector?.log.slice(-6).map((line) => JSON.stringify(line)) ?? ['no collector running'];
  const up = JSON.stringify(scrape.sourcesUp());
  return `kappie_source_up ${up}, lost events ${scrape.lostEvents('drop_reasons')}; collector log:\n${log.join('\n')}`;
}

/** Scrapes around `act` and returns how much each reason's count and bytes grew. */
async function dropGrowth(act: () => Promise<void>, reasons: readonly string[]) {
  const before = await Scrape.take();
  await act();
  const after = await Scrape.take();
  return {
    count: Object.fromEntries(reasons.map((r) => [r, after.dropCount(r) - before.dropCount(r)])),
    bytes: Object.fromEntries(reasons.map((r) => [r, after.dropBytes(r) - before.dropBytes(r)])),
    after,
  };
}

/**
 * Hitcount per `reason|function` of a hist table, read here independently of the collector's parser: the
 * tracepoint's table keys the function as `location`, the kprobe's as `caller`.
 */
function histHitcounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(
    /^\{ reason:\s+(\d+), (?:location|caller): \[[0-9a-f]+\] (\S+).*\} hitcount:\s+(\d+)/gm,
  )) {
    counts.set(`${m[1]}|${m[2]}`, Number(m[3]));
  }
  return counts;
}

function sameMaps(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([key, value]) => b.get(key) === value);
}

/** The kernel's own files behind the hist path, as fixtures for the parsers' unit tests (`--record`). */
function recordKernelFiles(runner: GuestRunner): void {
  const instance = `${TRACEFS}/instances/${INSTANCE}/events`;
  const files: Record<string, string> = {
    README: `${TRACEFS}/README`,
    'kfree_skb.format': `${TRACEFS}/events/skb/kfree_skb/format`,
    'hist.kfree_skb': `${instance}/skb/kfree_skb/hist`,
    'hist.kprobe_bytes': `${instance}/kappie/kfree_skb_bytes/hist`,
  };
  for (const [name, file] of Object.entries(files)) {
    if (fs.existsSync(file)) runner.file(name, fs.readFileSync(file));
  }
}

export function registerDropTests(runner: GuestRunner, context: SuiteContext, path: 'hist' | 'stream'): void {
  const { a, b } = context.network;
  // Bytes are checked wherever the collector says it installed its kprobe: a missing series then fails the test.
  const withBytes = () => path === 'hist' && context.facts.kprobe !== undefined;

  runner.test(`${path}: UDP to a closed port is NO_SOCKET, exactly as many as Udp NoPorts counts`, async () => {
    requireCollector(context);
    const kernelBefore = await kernelCounters(b);
    const ruleBefore = ruleCounter('closed-udp');
    const drops = await dropGrowth(async () => {
      await a.send({ op: 'udp', to: ADDRESS_B, port: PORT_CLOSED, count: N, size: PAYLOAD });
    }, ['NO_SOCKET']);
    const kernel = growth(kernelBefore, await kernelCounters(b), ['Udp.NoPorts']);
    const rule = ruleCounter('closed-udp');
    assert.equal(kernel['Udp.NoPorts'], N, 'the kernel counted a different number of datagrams to no socket');
    assert.equal(drops.count['NO_SOCKET'], kernel['Udp.NoPorts'], diagnosis(context, drops.after));
    if (withBytes()) {
      // The rule counts whole IP packets; UDP drops them after the IP header is pulled: skb->len is 8 + payload.
      const ruleBytes = rule.bytes - ruleBefore.bytes;
      assert.equal(rule.packets - ruleBefore.packets, N);
      assert.equal(drops.bytes['NO_SOCKET'], ruleBytes - N * IPV4_HEADER, 'kappie_drop_bytes{NO_SOCKET}');
    }
  });

  runner.test(
    `${path}: an nftables drop on input is NETFILTER_DROP, as many packets and bytes as the rule counted`,
    async () => {
      requireCollector(context);
      const ruleBefore = ruleCounter('drop-in');
      const drops = await dropGrowth(async () => {
        await a.send({ op: 'udp', to: ADDRESS_B, port: PORT_NFT_INGRESS, count: N, size: PAYLOAD });
      }, ['NETFILTER_DROP']);
      const rule = ruleCounter('drop-in');
      assert.equal(rule.packets - ruleBefore.packets, N);
      assert.equal(drops.count['NETFILTER_DROP'], rule.packets - ruleBefore.packets, diagnosis(context, drops.after));
      if (withBytes()) assert.equal(drops.bytes['NETFILTER_DROP'], rule.bytes - ruleBefore.bytes, 'kappie_drop_bytes');
    },
  );

  runner.test(
    `${path}: an nftables drop on output is NETFILTER_DROP, as many packets and bytes as the rule counted`,
    async () => {
      requireCollector(context);
      const ruleBefore = ruleCounter('drop-out');
      const drops = await dropGrowth(async () => {
        // sendto fails with EPERM for each datagram the output rule drops.
        await b.send({ op: 'udp', to: ADDRESS_A, port: PORT_NFT_EGRESS, count: N, size: PAYLOAD });
      }, ['NETFILTER_DROP']);
      const rule = ruleCounter('drop-out');
      assert.equal(rule.packets - ruleBefore.packets, N);
      assert.equal(drops.count['NETFILTER_DROP'], rule.packets - ruleBefore.packets, diagnosis(context, drops.after));
      if (withBytes()) assert.equal(drops.bytes['NETFILTER_DROP'], rule.bytes - ruleBefore.bytes, 'kappie_drop_bytes');
    },
  );

  if (path === 'stream') return;

  runner.test(
    'hist: a TCP SYN to a closed port is NO_SOCKET, exactly as many as the resets Tcp OutRsts counts',
    async () => {
      requireCollector(context);
      const kernelBefore = await kernelCounters(b);
      const drops = await dropGrowth(async () => {
        await a.send({ op: 'tcp-refused', to: ADDRESS_B, port: PORT_CLOSED, count: N });
      }, ['NO_SOCKET']);
      const kernel = growth(kernelBefore, await kernelCounters(b), ['Tcp.OutRsts']);
      assert.equal(kernel['Tcp.OutRsts'], N);
      assert.equal(drops.count['NO_SOCKET'], kernel['Tcp.OutRsts']);
    },
  );

  runner.test(
    'hist: a packet with no route to forward it is IP_INNOROUTES, as many as IpExt InNoRoutes counts',
    async () => {
      requireCollector(context);
      assert.ok(reasonNames().includes('IP_INNOROUTES'), 'this kernel has no IP_INNOROUTES drop reason');
      await b.send({ op: 'write', file: '/proc/sys/net/ipv4/ip_forward', text: '1' });
      const kernelBefore = await kernelCounters(b);
      const drops = await dropGrowth(async () => {
        await a.send({ op: 'udp', to: UNROUTED, port: PORT_CLOSED, count: N, size: PAYLOAD });
      }, ['IP_INNOROUTES']);
      const kernel = growth(kernelBefore, await kernelCounters(b), ['IpExt.InNoRoutes']);
      assert.equal(kernel['IpExt.InNoRoutes'], N);
      assert.equal(drops.count['IP_INNOROUTES'], kernel['IpExt.InNoRoutes']);
    },
  );

  runner.test(
    'hist: a full accept queue refuses SYNs the kernel counts in ListenOverflows and ListenDrops, and kfree_skb never sees them',
    async () => {
      // Measured on Debian 6.1 and 6.12: a SYN refused because the accept queue is full is counted in TcpExt
      // ListenOverflows and ListenDrops, then freed with consume_skb (tcp_conn_request returns 0): no kfree_skb event,
      // so no drop reason of the tracefs paths includes it (README: "Not counted by the tracefs events").
      requireCollector(context);
      const refused = CONNECTIONS - (BACKLOG + 1);
      await b.send({ op: 'listen', port: PORT_LISTEN, backlog: BACKLOG });
      const [bBefore, aBefore, before] = [await kernelCounters(b), await kernelCounters(a), await Scrape.take()];
      // First fill the queue, then knock: every later SYN meets a full queue (none races a handshake in progress).
      const queued = await a.send<Record<string, number>>({
        op: 'connect-many',
        to: ADDRESS_B,
        port: PORT_LISTEN,
        count: BACKLOG + 1,
        waitMs: 1000,
      });
      assert.equal(queued['connected'], BACKLOG + 1, `the queue did not fill: ${JSON.stringify(queued)}`);
      await a.send({ op: 'connect-many', to: ADDRESS_B, port: PORT_LISTEN, count: refused, waitMs: 2500 });
      // Closing the connecting sockets ends their SYN retransmissions; a SYN already sent may still be on its way to
      // the listener (open until then), so the counters are read until two readings agree.
      await a.send({ op: 'close-connections' });
      const [aAfter, bAfter] = await settledCounters([a, b]);
      const after = await Scrape.take();
      await b.send({ op: 'close-all' });
      const server = growth(bBefore, bAfter!, ['TcpExt.ListenOverflows', 'TcpExt.ListenDrops']);
      const client = growth(aBefore, aAfter!, ['TcpExt.TCPSynRetrans']);
      const overflows = server['TcpExt.ListenOverflows']!;
      assert.ok(overflows >= refused, `only ${overflows} listen overflows for ${refused} refused connections`);
      assert.equal(server['TcpExt.ListenDrops'], overflows);
      assert.equal(overflows, refused + client['TcpExt.TCPSynRetrans']!, 'every refused SYN, first or retransmitted');
      // What the collector exports for them today: nothing. The tracepoint never fires, so the drops of every reason
      // together grow by less than the overflows, and TCP_LISTEN_OVERFLOW (the kernel's reason for an accept queue
      // overflow) not at all. This listener is in namespace b, whose counters the collector does not read: a check
      // of ListenDrops reconciled into kappie_drop_count (issue 10c) needs the listener in the collector's namespace.
      const grown = reasonNames()
        .map((r) => [r, after.dropCount(r) - before.dropCount(r)] as const)
        .filter(([, n]) => n !== 0);
      const counted = grown.reduce((sum, [, n]) => sum + n, 0);
      assert.ok(
        counted < overflows,
        `kappie_drop_count grew by ${counted} (${JSON.stringify(grown)}) for ${overflows}`,
      );
      const listenOverflow = after.dropCount('TCP_LISTEN_OVERFLOW') - before.dropCount('TCP_LISTEN_OVERFLOW');
      assert.equal(listenOverflow, 0, 'kappie_drop_count{reason="TCP_LISTEN_OVERFLOW"} grew');
    },
  );

  runner.test(
    'hist: the bytes kprobe sees exactly the drops the tracepoint counts, per reason and location',
    async () => {
      requireCollector(context);
      const events = `${TRACEFS}/instances/${INSTANCE}/events`;
      const read = () => ({
        counts: histHitcounts(fs.readFileSync(`${events}/skb/kfree_skb/hist`, 'latin1')),
        bytes: histHitcounts(fs.readFileSync(`${events}/kappie/kfree_skb_bytes/hist`, 'latin1')),
      });
      let tables = read();
      // A drop between the two reads would make them differ for a moment: read again until they are read together.
      for (let attempt = 0; attempt < 3 && !sameMaps(tables.counts, tables.bytes); attempt += 1) tables = read();
      assert.deepEqual(Object.fromEntries(tables.bytes), Object.fromEntries(tables.counts));
    },
  );

  runner.test('hist: kappie_drop_bytes is exported where the kernel has kprobe events and hist triggers', async () => {
    assert.ok(fs.existsSync(`${TRACEFS}/kprobe_events`), 'no kprobe_events in this kernel');
    if (context.config.record) recordKernelFiles(runner);
    context.facts.dropBytes = (await Scrape.take()).hasDropBytes();
    assert.equal(
      context.facts.dropBytes,
      true,
      `no kappie_drop_bytes; kprobe: ${JSON.stringify(context.facts.kprobe)}`,
    );
  });
}
