/**
 * The flag-counting chains as the kernel holds them, while the real collector (`kappie serve --sources tcp_flags`)
 * follows uplinks that appear, multiply past UPLINK_COMPARE_LIMIT, disappear and get renamed: the bytecode of each
 * chain (`nft --debug=netlink list chain`: what the kernel runs per packet), and the 512 named counters read with
 * `nft -j list counters` around known traffic: TCP over the uplink counted exactly, UDP and ICMP over the uplink and
 * TCP over another interface not at all, no counter ever going back.
 */
import type { ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import { parseNftCounters, type NftCounter } from '../../src/sources/linux/nft-json';
import { NFT_DIRECTIONS, UPLINK_COMPARE_LIMIT, UPLINK_SET_SIZE } from '../../src/sources/linux/nft-ruleset';
import {
  cleanup,
  COLLECTOR_CLI,
  connect,
  describeKernel,
  Namespace,
  uniqueName,
  waitForOutput,
  type Link,
} from '../helpers/netns';
import { startTcpServer, tcpConnections } from '../helpers/tcp-flags-traffic';

const OPEN_PORT = 8080;
const CLOSED_PORT = 8081;
const UDP_PORT = 8082;

/** The 16-byte interface name register as nft's debug output prints it: four 32-bit words in host order. */
function nameRegister(name: string): string {
  const bytes = Buffer.alloc(16);
  bytes.write(name);
  const words = [0, 4, 8, 12].map((offset) =>
    os.endianness() === 'LE' ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset),
  );
  return words.map((word) => `0x${word.toString(16).padStart(8, '0')}`).join(' ');
}

/** The expressions of each rule of a chain as the kernel lists them (`[ meta load oifname => reg 1 ]`: `meta ...`). */
function chainBytecode(ns: Namespace, table: string, chain: string): string[][] {
  const text = ns.exec('nft', '--debug=netlink', 'list', 'chain', 'inet', table, chain);
  const rules: string[][] = [];
  for (const line of text.split('\n')) {
    if (new RegExp(`^inet ${table} ${chain} \\d+`).test(line)) rules.push([]);
    const expression = /^\s+\[ (.*) \]$/.exec(line)?.[1];
    if (expression !== undefined && rules.length > 0) rules[rules.length - 1]!.push(expression);
  }
  return rules;
}

/** The bytecode of one counting rule after its interface test: the protocol dependency, the flag byte, the counter. */
function counting(direction: string): string[] {
  return [
    'meta load l4proto => reg 1',
    'cmp eq reg 1 0x00000006',
    'payload load 1b @ transport header + 13 => reg 1',
    `objref sreg 1 set ${direction}_by_flags`,
  ];
}

/** What each chain must run for `uplinks`: one inline compare per uplink up to the limit, else one set lookup. */
function expectChains(ns: Namespace, table: string, uplinks: readonly string[]): void {
  for (const direction of NFT_DIRECTIONS) {
    const key = direction === 'ingress' ? 'iifname' : 'oifname';
    const expected =
      uplinks.length > UPLINK_COMPARE_LIMIT
        ? [[`meta load ${key} => reg 1`, 'lookup reg 1 set uplinks 0x0', ...counting(direction)]]
        : uplinks.map((name) => [
            `meta load ${key} => reg 1`,
            `cmp eq reg 1 ${nameRegister(name)}`,
            ...counting(direction),
          ]);
    // In any order: the uplinks come in the link dump's order (by interface index).
    const sorted = (rules: string[][]) => [...rules].sort((a, b) => a.join().localeCompare(b.join()));
    expect(sorted(chainBytecode(ns, table, direction))).toEqual(sorted(expected));
  }
  const set = (
    JSON.parse(ns.exec('nft', '-j', 'list', 'set', 'inet', table, 'uplinks')) as {
      nftables: { set?: { elem?: string[]; size?: number } }[];
    }
  ).nftables.find((o) => o.set)?.set;
  const elements = set?.elem;
  // Sized sets and maps, so that the kernel backs them with its fixed-size hash (nft-ruleset.ts).
  expect(set?.size).toBe(UPLINK_SET_SIZE);
  for (const direction of NFT_DIRECTIONS) {
    const map = (
      JSON.parse(ns.exec('nft', '-j', 'list', 'map', 'inet', table, `${direction}_by_flags`)) as {
        nftables: { map?: { size?: number } }[];
      }
    ).nftables.find((o) => o.map)?.map;
    expect(map?.size).toBe(256);
  }
  // nft lists a literal trailing * escaped, as it reads it.
  expect((elements ?? []).map((name) => name.replace(/\\\*$/, '*')).sort()).toEqual([...uplinks].sort());
}

/** UDP datagrams and ICMP echo requests from `ns` to `host`: packets over the uplink that are not TCP. */
function nonTcpTraffic(ns: Namespace, host: string): void {
  const sender =
    "const s = require('node:dgram').createSocket('udp4'); let n = 0;" +
    `const next = () => n++ < 5 ? s.send('x', ${UDP_PORT}, '${host}', next) : s.close(); next();`;
  ns.exec(process.execPath, '-e', sender);
  ns.exec('ping', '-c', '3', '-i', '0.2', '-W', '1', host);
}

describeKernel('the flag-counting chains follow the uplinks in the kernel', () => {
  afterAll(cleanup);

  it('counts exactly on 1, 5, 2, renamed and no uplinks, inline compares up to the limit, a set above', async () => {
    const node = Namespace.create();
    const remote = Namespace.create();
    const side = Namespace.create();
    const uplink: Link = connect(node, remote, { aIf: 'upa' });
    const other: Link = connect(side, node, { bIf: 'side0' }); // not an uplink: no name matches up*
    await startTcpServer(remote, uplink.bAddr4, OPEN_PORT);
    await startTcpServer(side, other.aAddr4, OPEN_PORT);
    const table = uniqueName('ktch');
    const port = 19_400 + Math.floor(Math.random() * 500);
    const child: ChildProcess = node.spawn(process.execPath, [
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--sources',
      'tcp_flags',
      '--uplink-interfaces',
      'up*',
      '--nft-table',
      table,
      '--tracefs-instance',
      uniqueName('ktch'),
    ]);
    await waitForOutput(child, /ready: the sources are started/);
    /** Scrapes once (a gathering follows the uplinks), then reads every named counter of the table. */
    let last: Map<string, NftCounter> | undefined;
    const gatherAndRead = (): Map<string, NftCounter> => {
      node.fetchText(`http://127.0.0.1:${port}/metrics`);
      const counters = parseNftCounters(
        node.exec('nft', '-j', 'list', 'counters', 'table', 'inet', table),
        'inet',
        table,
      );
      expect(counters.size).toBe(512);
      // Never a reset: every counter at least what it was at the previous reading.
      for (const [name, counter] of last ?? [])
        expect(counters.get(name)!.packets).toBeGreaterThanOrEqual(counter.packets);
      last = counters;
      return counters;
    };
    const packets = (counters: Map<string, NftCounter>, name: string) => counters.get(name)!.packets;
    const total = (counters: Map<string, NftCounter>) => [...counters.values()].reduce((s, c) => s + c.packets, 0);

    /** Known TCP over the uplink: SYNs out, SYN-ACKs and RST-ACKs (a closed port) in, each counted exactly. */
    const expectCounted = (connections: number, refused: number) => {
      const before = gatherAndRead();
      tcpConnections(node, uplink.bAddr4, OPEN_PORT, connections, 'close');
      tcpConnections(node, uplink.bAddr4, CLOSED_PORT, refused, 'refused');
      const after = gatherAndRead();
      expect(packets(after, 'egress_0x02') - packets(before, 'egress_0x02')).toBe(connections + refused);
      expect(packets(after, 'ingress_0x12') - packets(before, 'ingress_0x12')).toBe(connections);
      expect(packets(after, 'ingress_0x14') - packets(before, 'ingress_0x14')).toBe(refused);
      expect(packets(after, 'ingress_0x02') - packets(before, 'ingress_0x02')).toBe(0);
    };
    /** Non-TCP over the uplink and TCP over another interface: no counter moves. */
    const expectNotCounted = () => {
      const before = gatherAndRead();
      nonTcpTraffic(node, uplink.bAddr4);
      tcpConnections(node, other.aAddr4, OPEN_PORT, 3, 'close');
      expect(total(gatherAndRead())).toBe(total(before));
    };

    try {
      // One uplink: one rule per chain, the name compared inline.
      gatherAndRead();
      expectChains(node, table, ['upa']);
      expectNotCounted();
      expectCounted(4, 2);

      // Four more (5 > the limit): one rule per chain looking the name up in the set. `upb*` ends with nft's wildcard
      // character: escaped, it is matched as that one name (a wildcard would compare 3 bytes and match upa too).
      const extra = ['upb*', 'upc', 'upd', 'upe'];
      extra.forEach((name, i) => node.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `xup${i}`));
      expect(extra.length + 1).toBeGreaterThan(UPLINK_COMPARE_LIMIT);
      gatherAndRead();
      expectChains(node, table, ['upa', ...extra]);
      expectNotCounted();
      expectCounted(3, 1);

      // Back to two: inline compares again.
      for (const name of ['upc', 'upd', 'upe']) node.ip('link', 'del', name);
      gatherAndRead();
      expectChains(node, table, ['upa', 'upb*']);
      expectCounted(2, 1);

      // The uplink renamed (a rename needs the link down): counted under its new name.
      node.ip('link', 'set', 'upa', 'down');
      node.ip('link', 'set', 'upa', 'name', 'upz');
      node.ip('link', 'set', 'upz', 'up');
      gatherAndRead();
      expectChains(node, table, ['upb*', 'upz']);
      expectCounted(3, 2);

      // Renamed out of the uplinks: its TCP is no longer counted.
      node.ip('link', 'set', 'upz', 'down');
      node.ip('link', 'set', 'upz', 'name', 'side1');
      node.ip('link', 'set', 'side1', 'up');
      const before = gatherAndRead();
      expectChains(node, table, ['upb*']);
      tcpConnections(node, uplink.bAddr4, OPEN_PORT, 3, 'close');
      expect(total(gatherAndRead())).toBe(total(before));

      // No uplink at all: empty chains, the source still serves its (unchanged) counters.
      node.ip('link', 'del', 'upb*');
      gatherAndRead();
      expectChains(node, table, []);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      expect(node.exec('nft', 'list', 'tables')).not.toContain(table);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
