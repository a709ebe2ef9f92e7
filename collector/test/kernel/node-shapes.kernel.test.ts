/**
 * Every family on AKS-shaped nodes (test/helpers/node-shapes.ts: kubenet, Azure CNI transparent and bridge, Cilium,
 * an uplink with an enslaved device), each checked against an independent reading taken at the same moment:
 * `ip -s -s -j link` (interface_stats, forward_*), `nstat` (tcp/ip/udp_connection_stats, drop_count from the kernel
 * counters), `ss` (tcp_state, udp_active_sockets), tcpdump on the uplink (tcp_flag_counters) and an nft rule counter
 * (the policy drop). Exact for counters the kernel keeps; the README's CNI table says what each family means.
 *
 * Known traffic in every shape: 10 TCP connections pod -> outside, 5 outside -> pod, 4 outside -> a closed pod port
 * (RST), 3 host -> pod, pings pod -> pod and host -> pod, 6 UDP datagrams outside -> a closed node port, 5 UDP
 * datagrams outside -> pod dropped by an nft rule in forward, and 3 datagrams the node cannot route. The collector
 * serves (it owns the flag table) and each reading is a one-shot `kappie snapshot` beside it, taken between two
 * references that must agree (nothing moved), so no scrape traffic is counted.
 *
 * drop_count in both modes: the snapshot reads the kernel counters (`--drop-reader counters`), compared exactly with
 * nstat; the serving collector counts tracefs events (`--drop-reader stream`, an instance of its own) from before the
 * first packet, scraped once after the readings. The tracepoint sees every namespace of this shared host, so the
 * reasons other namespaces also produce (NO_SOCKET, NETFILTER_DROP) are checked as at least the known drops (nstat,
 * the nft rule), and the no-route sends, which only the node's own OutNoRoutes has, exactly.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { LABEL, POD_INTERFACES_AGGREGATE, type TcpFlag } from '../../src/catalog';
import type { Gathering } from '../../src/gatherer';
import { buildNodeShape, NODE_SHAPES, type NodeShape, type NodeShapeName } from '../helpers/node-shapes';
import { cleanup, COLLECTOR_CLI, describeKernel, uniqueName, waitForOutput, type Namespace } from '../helpers/netns';
import { countCaptured, startCapture } from '../helpers/packet-capture';
import { removeTracefsInstances } from '../helpers/tracefs-instances';
import { summariseSs } from '../helpers/ss';
import { startTcpServer } from '../helpers/tcp-flags-traffic';

const SERVICE_PORT = 8080;
const CLOSED_TCP_PORT = 8081;
const CLOSED_UDP_PORT = 9;
const POLICY_DROPPED_PORT = 9999;
const UNROUTABLE = '198.18.99.1';

const TRAFFIC = {
  podToOutside: 10,
  outsideToPod: 5,
  refused: 4,
  hostToPod: 3,
  closedUdp: 6,
  policyDrops: 5,
  noRoute: 3,
};

/**
 * One process per namespace runs that namespace's share of the traffic, one step after the other (a process start is
 * the slow part on a loaded CI machine): `tcp HOST PORT COUNT close|refused` opens COUNT connections one at a time
 * (data then FIN both ways, or a closed port answering RST); `udp HOST PORT COUNT` sends COUNT datagrams (send errors
 * such as no route are the point, not a failure).
 */
const TRAFFIC_SCRIPT = `
const net = require('node:net');
const dgram = require('node:dgram');
function tcpOnce(host, port, ending) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.on('error', (error) => (ending === 'refused' && error.code === 'ECONNREFUSED' ? resolve() : reject(error)));
    socket.on('connect', () => { socket.write('x'); socket.end(); });
    socket.on('close', () => resolve());
  });
}
function udpOnce(socket, host, port) {
  return new Promise((resolve) => socket.send(Buffer.from('kappie'), port, host, () => resolve()));
}
(async () => {
  for (const step of JSON.parse(process.argv[1])) {
    const [kind, host, port, count, ending] = step;
    if (kind === 'tcp') for (let i = 0; i < count; i++) await tcpOnce(host, port, ending);
    else {
      const socket = dgram.createSocket('udp4');
      socket.on('error', () => {});
      for (let i = 0; i < count; i++) await udpOnce(socket, host, port);
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.close();
    }
  }
  console.log('traffic done');
})().catch((error) => { console.error(error); process.exit(1); });
`;

type TrafficStep = ['tcp', string, number, number, 'close' | 'refused'] | ['udp', string, number, number];

/** Runs a command in `ns` to its end; rejects with its output when it fails. */
function finish(ns: Namespace, command: string, args: string[]): Promise<string> {
  const child = ns.spawn(command, args);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} in ${ns.name}: ${output}`)),
    ),
  );
}

async function traffic(ns: Namespace, steps: TrafficStep[]): Promise<void> {
  const out = await finish(ns, process.execPath, ['-e', TRAFFIC_SCRIPT, JSON.stringify(steps)]);
  if (!out.includes('traffic done')) throw new Error(`traffic in ${ns.name} did not finish: ${out}`);
}

/** KAPPIE_TEST_TIMING=1 prints where a shape's time goes. */
function timing(line: string): void {
  // eslint-disable-next-line no-console
  if (process.env.KAPPIE_TEST_TIMING) console.log(line);
}

async function ping(ns: Namespace, address: string, count: number): Promise<void> {
  await finish(ns, 'ping', ['-c', String(count), '-i', '0.01', '-q', '-W', '2', address]);
}

interface IpLinkStats {
  rx: { bytes: number; packets: number; dropped: number; missed_errors?: number };
  tx: { bytes: number; packets: number; dropped: number };
}

/** What the kernel says at one moment: every link's counters, the SNMP counters, sockets, the policy rule. */
interface Reference {
  readonly links: Map<string, IpLinkStats>;
  readonly nstat: Record<string, number>;
  readonly tcpStates: Partial<Record<string, number>>;
  readonly udpSockets: number;
  readonly policyDrops: number;
}

const SEPARATOR = '----kappie----';

/** The five readings in one shell in the node's namespace (one process start instead of five on a loaded machine). */
function readReference(shape: NodeShape, policyFamily: string): Reference {
  const script = [
    'ip -s -s -j link',
    'nstat -a -s -z --json',
    'ss -tanH',
    'ss -uanH',
    `nft -j list chain ${policyFamily} ktpolicy forward`,
  ].join(` && echo ${SEPARATOR} && `);
  const [ipText, nstatText, tcpText, udpText, nftText] = shape.node.exec('sh', '-c', script).split(`${SEPARATOR}\n`);
  const links = new Map<string, IpLinkStats>();
  for (const link of JSON.parse(ipText!) as { ifname: string; stats64: IpLinkStats }[]) {
    links.set(link.ifname, link.stats64);
  }
  const nstat = (JSON.parse(nstatText!) as { kernel: Record<string, number> }).kernel;
  const udpSockets = udpText!.split('\n').filter((line) => line.trim() !== '').length;
  const rule = JSON.parse(nftText!) as { nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[] };
  const policyDrops = rule.nftables
    .flatMap((entry) => entry.rule?.expr ?? [])
    .reduce((sum, expr) => sum + (expr.counter?.packets ?? 0), 0);
  return { links, nstat, tcpStates: summariseSs(tcpText!).states, udpSockets, policyDrops };
}

function movedParts(before: Reference, after: Reference): string[] {
  const moved: string[] = [];
  for (const [name, stats] of before.links) if (!isDeepStrictEqual(stats, after.links.get(name))) moved.push(name);
  for (const key of ['nstat', 'tcpStates', 'udpSockets', 'policyDrops'] as const) {
    if (!isDeepStrictEqual(before[key], after[key])) moved.push(key);
  }
  if (!isDeepStrictEqual(before.nstat, after.nstat)) {
    moved.push(...Object.keys(after.nstat).filter((key) => before.nstat[key] !== after.nstat[key]));
  }
  return moved;
}

/** A snapshot of every family but the ones that need events, between two references that agree. */
function readTogether(
  shape: NodeShape,
  policyFamily: string,
  nftTable: string,
): { gathering: Gathering; reference: Reference } {
  for (let attempt = 1; ; attempt++) {
    const before = readReference(shape, policyFamily);
    const gathering = shape.node.snapshot(
      '--sources',
      'netdev,forward,snmp,sockstat,tcp_sockets,tcp_flags,drops',
      '--drop-reader',
      'counters',
      '--statistics',
      'all',
      '--nft-table',
      nftTable,
    );
    const after = readReference(shape, policyFamily);
    if (isDeepStrictEqual(before, after)) return { gathering, reference: after };
    timing(`${shape.shape}: moved during reading ${attempt}: ${movedParts(before, after).join(', ')}`);
    if (attempt === 8) throw new Error(`the ${shape.shape} node never stood still for a reading`);
  }
}

function value(
  gathering: Gathering,
  key: keyof Gathering['samples'],
  labels: Record<string, string>,
): number | undefined {
  const samples = (gathering.samples[key] ?? []) as { labels: Record<string, string>; value: number }[];
  return samples.find((sample) => Object.entries(labels).every(([name, wanted]) => sample.labels[name] === wanted))
    ?.value;
}

function interfaceNames(gathering: Gathering): Set<string> {
  return new Set((gathering.samples.interfaceStats ?? []).map((sample) => sample.labels[LABEL.interfaceName]!));
}

/** Flag byte tests as tcpdump filters, the definitions of tcp-flag-bits.ts. */
const FLAG_FILTERS: Partial<Record<TcpFlag, string>> = {
  SYN: 'tcp[13] & 0x12 == 0x02',
  SYNACK: 'tcp[13] & 0x12 == 0x12',
  RST: 'tcp[13] & 0x04 != 0',
  FIN: 'tcp[13] & 0x01 != 0',
};

/** drop_count of a /metrics text summed per reason over the directions. */
function dropCountsByReason(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^kappie_drop_count\{.*reason="([^"]+)".*\} (\d+)$/.exec(line);
    if (match) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + Number(match[2]));
  }
  return counts;
}

/**
 * drop_count of the serving collector (tracefs events) once every known drop has reached it: the stream reader
 * follows trace_pipe, so the last events may arrive a moment after the traffic. At most 5 scrapes, 300 ms apart.
 */
async function eventDropCounts(
  node: Namespace,
  port: number,
  least: Record<string, number>,
): Promise<Map<string, number>> {
  for (let attempt = 1; ; attempt++) {
    const counts = dropCountsByReason(node.fetchText(`http://127.0.0.1:${port}/metrics`));
    const short = Object.entries(least).some(([reason, count]) => (counts.get(reason) ?? 0) < count);
    if (!short || attempt === 5) return counts;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** The nft table (and family) where the shape's policy-style drop lives: bridged pods pass the bridge's forward hook. */
function policyFamily(shape: NodeShapeName): 'ip' | 'bridge' {
  return shape === 'azure-cni-bridge' ? 'bridge' : 'ip';
}

/** The fault of issue 10 each shape showed before its fix (each of these tests failed then, on that assertion). */
const SHAPE_FAULTS: Record<NodeShapeName, string> = {
  kubenet: "a bridged pod's SYN counts once, egress on eth0, not again as ingress from cbr0",
  'azure-cni-transparent': 'a host veth-mgmt (both ends on the node) is not a pod interface',
  'azure-cni-bridge': 'forward_* counts eth0 under azure0, not the bridge that sees only host traffic',
  cilium: 'lxc* pods summed, cilium_host/cilium_net on their own',
  'enslaved-uplink': 'forward_* counts the device every packet passes once, not the master and the slave',
};

describeKernel('AKS node shapes: every family against an independent reading', () => {
  afterAll(cleanup);

  it.each(NODE_SHAPES.map((shape) => [shape, SHAPE_FAULTS[shape]]))(
    '%s: every family as the kernel counts it (%s)',
    async (shapeName) => {
      const t0 = Date.now();
      const shape = buildNodeShape(shapeName as NodeShapeName, 2);
      timing(`${shapeName}: built in ${Date.now() - t0} ms`);
      const capture = path.join(os.tmpdir(), `${uniqueName('ktcap')}.pcap`);
      const nftTable = uniqueName('ktflags');
      const tracefsInstance = uniqueName('ktshape');
      let collector: ChildProcess | undefined;
      try {
        const [pod0, pod1] = shape.pods as [NodeShape['pods'][0], NodeShape['pods'][0]];
        const family = policyFamily(shape.shape);
        shape.node.exec(
          'nft',
          `add table ${family} ktpolicy { chain forward { type filter hook forward priority 0; ` +
            `udp dport ${POLICY_DROPPED_PORT} counter drop; }; }`,
        );
        // `throw` ends the lookup with no route (ENETUNREACH: Ip OutNoRoutes), unlike `unreachable`'s EHOSTUNREACH.
        shape.node.ip('route', 'add', 'throw', `${UNROUTABLE}/32`);
        const port = 20_000 + Math.floor(Math.random() * 20_000);
        collector = shape.node.spawn(process.execPath, [
          COLLECTOR_CLI,
          'serve',
          '--listen',
          `127.0.0.1:${port}`,
          '--sources',
          'tcp_flags,drops',
          '--nft-table',
          nftTable,
          '--drop-reader',
          'stream',
          '--tracefs-instance',
          tracefsInstance,
        ]);
        // Started side by side: the capture and both servers are up before the first packet, as is the collector.
        const [tcpdump] = await Promise.all([
          startCapture(shape.node, shape.uplink, capture),
          startTcpServer(shape.outside, shape.outsideAddress, SERVICE_PORT),
          startTcpServer(pod0.ns, pod0.address, SERVICE_PORT),
          waitForOutput(collector, /ready: the sources are started/),
        ]);
        timing(`${shapeName}: collector serving at ${Date.now() - t0} ms`);

        const started = Date.now();
        // Each namespace's share runs in one process, the namespaces side by side: the totals do not depend on order.
        await Promise.all([
          traffic(pod0.ns, [['tcp', shape.outsideAddress, SERVICE_PORT, TRAFFIC.podToOutside, 'close']]),
          traffic(shape.outside, [
            ['tcp', pod0.address, SERVICE_PORT, TRAFFIC.outsideToPod, 'close'],
            ['tcp', pod0.address, CLOSED_TCP_PORT, TRAFFIC.refused, 'refused'],
            ['udp', shape.nodeAddress, CLOSED_UDP_PORT, TRAFFIC.closedUdp],
            ['udp', pod1.address, POLICY_DROPPED_PORT, TRAFFIC.policyDrops],
          ]),
          traffic(shape.node, [
            ['tcp', pod0.address, SERVICE_PORT, TRAFFIC.hostToPod, 'close'],
            ['udp', UNROUTABLE, 7, TRAFFIC.noRoute],
          ]),
          ping(pod0.ns, pod1.address, 5),
          ping(shape.node, pod1.address, 5),
        ]);
        timing(`${shapeName}: traffic ${Date.now() - started} ms`);

        const { gathering, reference } = readTogether(shape, family, nftTable);
        await tcpdump.stop();
        timing(`${shapeName}: read at ${Date.now() - t0} ms`);
        const stats = (name: string) => reference.links.get(name)!;

        // interface_stats: each node interface as itself, the pods' host sides summed, nothing else.
        const reported = interfaceNames(gathering);
        expect([...reported].sort()).toEqual(['lo', POD_INTERFACES_AGGREGATE, ...shape.nodeInterfaces].sort());
        const ifStat = (name: string, statistic: string) =>
          value(gathering, 'interfaceStats', { [LABEL.interfaceName]: name, [LABEL.statisticName]: statistic });
        for (const name of shape.nodeInterfaces) {
          const kernel = stats(name);
          expect([name, ifStat(name, 'rx_bytes'), ifStat(name, 'tx_bytes')]).toEqual([
            name,
            kernel.rx.bytes,
            kernel.tx.bytes,
          ]);
          expect([name, ifStat(name, 'rx_packets'), ifStat(name, 'tx_packets')]).toEqual([
            name,
            kernel.rx.packets,
            kernel.tx.packets,
          ]);
          expect(ifStat(name, 'rx_dropped')).toBe(kernel.rx.dropped + (kernel.rx.missed_errors ?? 0));
        }
        const podSum = (pick: (link: IpLinkStats) => number) =>
          shape.pods.reduce((sum, pod) => sum + pick(stats(pod.hostInterface)), 0);
        expect(ifStat(POD_INTERFACES_AGGREGATE, 'rx_bytes')).toBe(podSum((link) => link.rx.bytes));
        expect(ifStat(POD_INTERFACES_AGGREGATE, 'tx_packets')).toBe(podSum((link) => link.tx.packets));
        expect(ifStat(POD_INTERFACES_AGGREGATE, 'rx_packets')).toBe(podSum((link) => link.rx.packets));

        // forward_*: the uplink every crossing packet passes once.
        const uplink = stats(shape.uplink);
        const forward = (key: 'forwardCount' | 'forwardBytes', direction: string) =>
          value(gathering, key, { [LABEL.direction]: direction });
        expect({
          ingressPackets: forward('forwardCount', 'ingress'),
          ingressBytes: forward('forwardBytes', 'ingress'),
          egressPackets: forward('forwardCount', 'egress'),
          egressBytes: forward('forwardBytes', 'egress'),
        }).toEqual({
          ingressPackets: uplink.rx.packets,
          ingressBytes: uplink.rx.bytes,
          egressPackets: uplink.tx.packets,
          egressBytes: uplink.tx.bytes,
        });

        // tcp_flag_counters: once per crossing, what tcpdump sees on the uplink, and the known connections.
        const flag = (name: TcpFlag, direction: string) =>
          value(gathering, 'tcpFlagCounters', { [LABEL.flag]: name, [LABEL.direction]: direction });
        const fromOutside = `src host ${shape.outsideAddress}`;
        const toOutside = `dst host ${shape.outsideAddress}`;
        for (const [name, filter] of Object.entries(FLAG_FILTERS) as [TcpFlag, string][]) {
          expect([name, 'ingress', flag(name, 'ingress')]).toEqual([
            name,
            'ingress',
            countCaptured(capture, `${fromOutside} and ${filter}`),
          ]);
          expect([name, 'egress', flag(name, 'egress')]).toEqual([
            name,
            'egress',
            countCaptured(capture, `${toOutside} and ${filter}`),
          ]);
        }
        expect({
          synEgress: flag('SYN', 'egress'),
          synackIngress: flag('SYNACK', 'ingress'),
          synIngress: flag('SYN', 'ingress'),
          synackEgress: flag('SYNACK', 'egress'),
        }).toEqual({
          synEgress: TRAFFIC.podToOutside,
          synackIngress: TRAFFIC.podToOutside,
          synIngress: TRAFFIC.outsideToPod + TRAFFIC.refused,
          synackEgress: TRAFFIC.outsideToPod,
        });
        // Every refused connect is answered by one RST; a closing connection may add one under load (its last data
        // segment crossing its peer's close), which the exact comparison with tcpdump above has already accounted for.
        expect(flag('RST', 'egress')).toBeGreaterThanOrEqual(TRAFFIC.refused);

        // tcp/ip/udp_connection_stats: the node namespace's SNMP counters as nstat prints them.
        const nstat = reference.nstat;
        const snmp = (key: 'tcpConnectionStats' | 'ipConnectionStats' | 'udpConnectionStats', name: string) =>
          value(gathering, key, { [LABEL.statisticName]: name });
        for (const name of ['InSegs', 'OutSegs', 'ActiveOpens', 'PassiveOpens', 'OutRsts']) {
          expect([name, snmp('tcpConnectionStats', name)]).toEqual([name, nstat[`Tcp${name}`]]);
        }
        for (const name of ['InReceives', 'ForwDatagrams', 'OutRequests', 'OutNoRoutes', 'InDelivers']) {
          expect([name, snmp('ipConnectionStats', name)]).toEqual([name, nstat[`Ip${name}`]]);
        }
        for (const name of ['InDatagrams', 'OutDatagrams', 'NoPorts']) {
          expect([name, snmp('udpConnectionStats', name)]).toEqual([name, nstat[`Udp${name}`]]);
        }
        // The node itself forwarded every routed datagram; in the bridge shape pods are switched, not routed.
        if (shape.shape === 'azure-cni-bridge') expect(nstat['IpForwDatagrams']).toBe(0);
        else expect(nstat['IpForwDatagrams']).toBeGreaterThan(0);

        // drop_count (kernel counters): closed port and no route exactly as nstat; the policy drop by its rule.
        const drop = (reason: string, direction: string) =>
          value(gathering, 'dropCount', { [LABEL.reason]: reason, [LABEL.direction]: direction });
        expect(drop('NO_SOCKET', 'ingress')).toBe(nstat['UdpNoPorts']);
        expect(nstat['UdpNoPorts']).toBe(TRAFFIC.closedUdp);
        expect(drop('IP_OUTNOROUTES', 'egress')).toBe(nstat['IpOutNoRoutes']);
        expect(nstat['IpOutNoRoutes']).toBe(TRAFFIC.noRoute);
        expect(reference.policyDrops).toBe(TRAFFIC.policyDrops);

        // drop_count (tracefs events, counting since before the first packet): the closed UDP port and the 4 refused
        // SYNs (found no socket in the pod) are NO_SOCKET, the policy drop NETFILTER_DROP, at least (other namespaces
        // add theirs); the sends without a route never became packets: IP_OUTNOROUTES_UNTRACED from OutNoRoutes,
        // exactly nstat's (with any IP_OUTNOROUTES events, which it subtracts).
        const events = await eventDropCounts(shape.node, port, {
          NO_SOCKET: nstat['UdpNoPorts']! + TRAFFIC.refused,
          NETFILTER_DROP: reference.policyDrops,
        });
        timing(`${shapeName}: tracefs drop_count ${JSON.stringify(Object.fromEntries(events))}`);
        expect({
          noSocketAtLeastKnown: (events.get('NO_SOCKET') ?? 0) >= nstat['UdpNoPorts']! + TRAFFIC.refused,
          netfilterAtLeastRule: (events.get('NETFILTER_DROP') ?? 0) >= reference.policyDrops,
          noRoute: (events.get('IP_OUTNOROUTES_UNTRACED') ?? 0) + (events.get('IP_OUTNOROUTES') ?? 0),
          events: Object.fromEntries(events),
        }).toMatchObject({ noSocketAtLeastKnown: true, netfilterAtLeastRule: true, noRoute: nstat['IpOutNoRoutes'] });

        // tcp_state, udp_active_sockets: the node's own sockets as ss lists them (pods' sockets are in their namespaces).
        for (const [state, count] of Object.entries(reference.tcpStates)) {
          expect([state, value(gathering, 'tcpState', { [LABEL.state]: state })]).toEqual([state, count]);
        }
        expect(reference.tcpStates.TIME_WAIT).toBe(TRAFFIC.hostToPod);
        expect(value(gathering, 'udpActiveSockets', {})).toBe(reference.udpSockets);

        // The collector made its tables (a bridge table only for a bridge-port uplink) and removes them on SIGTERM.
        const tables = () =>
          shape.node
            .exec('nft', 'list', 'tables')
            .split('\n')
            .filter((line) => line.endsWith(` ${nftTable}`))
            .sort();
        expect(tables()).toEqual(
          shape.uplinkIsBridgePort
            ? [`table bridge ${nftTable}`, `table inet ${nftTable}`]
            : [`table inet ${nftTable}`],
        );
        const running = collector;
        const exited = new Promise((resolve) => running.once('exit', resolve));
        running.kill('SIGTERM');
        await exited;
        collector = undefined;
        expect(tables()).toEqual([]);
      } finally {
        // A collector left running by a failure removes its tracefs instance on SIGTERM; whatever is left goes here.
        const running = collector;
        if (running !== undefined && running.exitCode === null && running.signalCode === null) {
          const exited = new Promise((resolve) => running.once('exit', resolve));
          running.kill('SIGTERM');
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        }
        removeTracefsInstances(shape.node, tracefsInstance);
        shape.remove();
        fs.rmSync(capture, { force: true });
      }
    },
    90_000,
  );
});
