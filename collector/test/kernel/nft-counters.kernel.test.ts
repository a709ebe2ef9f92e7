/**
 * The nftables counter dump (kernel/nft-counters.ts) against `nft -j list counters` in network namespaces this test
 * builds: the collector's own table (512 named counters behind two maps) moved by real TCP over a veth pair, a second
 * table with a counter beyond 2^53 and a quota, and a table that does not exist.
 */
import { isDeepStrictEqual } from 'node:util';
import * as os from 'node:os';
import { dumpNftCounters, type NftCounterObject } from '../../src/kernel/nft-counters';
import { createNetlink } from '../../src/kernel/netlink-socket';
import { parseNftCounters } from '../../src/sources/linux/nft-json';
import { createTableScript, listCountersArgs } from '../../src/sources/linux/nft-ruleset';
import { inNamespace } from '../helpers/in-namespace';
import { cleanup, connect, describeKernel, Namespace, run, uniqueName, type Link } from '../helpers/netns';
import { startTcpServer, tcpConnections } from '../helpers/tcp-flags-traffic';

const LITTLE_ENDIAN = os.endianness() === 'LE';
const PORT = 8080;

describeKernel('nftables counters over netlink against nft -j list counters', () => {
  let link: Link;
  const table = uniqueName('ktnft');
  beforeAll(async () => {
    link = connect(Namespace.create(), Namespace.create());
    runNftScript(link.a, createTableScript({ inet: [link.aIf], bridge: [] }, table));
    runNftScript(
      link.a,
      `table inet ${table}x {\n  counter big { packets 9007199254740993 bytes 18446744073709551615 }\n` +
        '  quota q { over 100 mbytes }\n}\n',
    );
    await startTcpServer(link.b, link.bAddr4, PORT);
    await startTcpServer(link.b, link.bAddr6, PORT);
  });
  afterAll(cleanup);

  const dump = (name: string): NftCounterObject[] =>
    inNamespace(link.a, () => dumpNftCounters(createNetlink(), 'inet', name, LITTLE_ENDIAN));
  const fromNft = () => parseNftCounters(link.a.exec('nft', ...listCountersArgs(table)), 'inet', table);

  it('gives every counter of the table with the values nft shows, after real TCP moved them', () => {
    tcpConnections(link.a, link.bAddr4, PORT, 4, 'close');
    tcpConnections(link.a, link.bAddr6, PORT, 3, 'reset');
    // Nothing else crosses the veth, but a late FIN/ACK can: read until nft shows the same before and after.
    const read = () => ({ before: fromNft(), dumped: dump(table), after: fromNft() });
    let reading = read();
    for (let attempt = 1; attempt < 10 && !isDeepStrictEqual(reading.before, reading.after); attempt++) {
      reading = read();
    }
    expect(reading.before).toEqual(reading.after);
    const dumped = new Map(
      reading.dumped.map((c) => [c.name, { packets: Number(c.packets), bytes: Number(c.bytes) }] as const),
    );
    expect(reading.dumped.every((counter) => counter.table === table)).toBe(true);
    expect(dumped).toEqual(reading.after);
    expect(dumped.size).toBe(512);
    // The SYNs of 7 connections left through egress_0x02.
    expect(dumped.get('egress_0x02')!.packets).toBeGreaterThanOrEqual(7);
  });

  it('reads exact u64 values, leaves other object types out, and dumps a missing table as empty', () => {
    expect(dump(`${table}x`)).toEqual([
      { table: `${table}x`, name: 'big', packets: 9_007_199_254_740_993n, bytes: 2n ** 64n - 1n },
    ]);
    expect(dump(`${table}missing`)).toEqual([]);
  });
});

function runNftScript(ns: Namespace, script: string): void {
  run('ip', ['netns', 'exec', ns.name, 'nft', '-f', '-'], script);
}
