/**
 * The rtnetlink link dump against `ip -s -s -d -j link` in network namespaces this test builds: a bridge with an
 * enslaved veth whose peer is in a second namespace, a veth with both ends here, a name in UTF-8, counters moved by
 * pings. IPv6 is off in both namespaces so nothing sends between the two reads.
 */
import { isDeepStrictEqual } from 'node:util';
import * as os from 'node:os';
import { dumpLinks } from '../../src/kernel/rtnetlink-link';
import { createNetlink, NETLINK_ROUTE } from '../../src/kernel/netlink-socket';
import { linkDumpRequest } from '../../src/kernel/rtnetlink-link';
import { createSockDiagReader } from '../../src/kernel/sock-diag';
import { newTcpSocketTally } from '../../src/kernel/tcp-table';
import { inNamespace } from '../helpers/in-namespace';
import { comparableLinks, linksFromIp } from '../helpers/ip-link';
import { cleanup, describeKernel, Namespace, run } from '../helpers/netns';

const LITTLE_ENDIAN = os.endianness() === 'LE';

describeKernel('rtnetlink link dump in network namespaces', () => {
  let node: Namespace;
  let pod: Namespace;
  beforeAll(() => {
    node = Namespace.create();
    pod = Namespace.create();
    for (const ns of [node, pod]) ns.exec('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    node.ip('link', 'add', 'cbr0', 'type', 'bridge');
    node.ip('link', 'add', 'vethpod1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.name);
    node.ip('link', 'set', 'vethpod1', 'master', 'cbr0');
    node.ip('link', 'add', 'vlocal0', 'type', 'veth', 'peer', 'name', 'vlocal1');
    node.ip('link', 'add', 'brücke0', 'type', 'bridge');
    for (const name of ['cbr0', 'vethpod1', 'vlocal0', 'vlocal1', 'brücke0']) node.ip('link', 'set', name, 'up');
    pod.ip('link', 'set', 'eth0', 'up');
    node.ip('addr', 'add', '198.18.92.1/24', 'dev', 'cbr0');
    pod.ip('addr', 'add', '198.18.92.2/24', 'dev', 'eth0');
    pod.exec('ping', '-c', '3', '-i', '0.2', '-q', '198.18.92.1');
  });
  afterAll(cleanup);

  it("gives every link when one link's message is larger than a default dump datagram (300 altnames)", () => {
    // Without IFLA_EXT_MASK in the request the kernel built the dump in ~32 KiB datagrams and ended it, as if complete,
    // at a link that did not fit: every later link was missing.
    const ns = Namespace.create();
    ns.ip('link', 'add', 'alts0', 'type', 'veth', 'peer', 'name', 'alts1');
    const batch = Array.from(
      { length: 300 },
      (_, i) => `link property add dev alts0 altname alt${String(i).padStart(4, '0')}${'0'.repeat(100)}`,
    ).join('\n');
    run('ip', ['-n', ns.name, '-batch', '-'], `${batch}\n`);
    ns.ip('link', 'add', 'after0', 'type', 'bridge');
    const fromIp = (JSON.parse(ns.ip('-j', 'link')) as { ifname: string }[]).map((link) => link.ifname).sort();
    const dump = inNamespace(ns, () => dumpLinks(createNetlink(), LITTLE_ENDIAN));
    expect(fromIp).toEqual(['after0', 'alts0', 'alts1', 'lo']);
    expect(dump.links.map((link) => link.name).sort()).toEqual(fromIp);
  });

  it('gives every link, its kind, master, peer namespace and counters as ip shows them', () => {
    // A fair comparison needs nothing to move between the reads; a fresh link may still send a packet of its own
    // (a bridge's or veth's first frames), so read again until ip shows the same before and after the dump.
    const read = () => {
      const before = linksFromIp(node.ip('-s', '-s', '-d', '-j', 'link'));
      const dumped = inNamespace(node, () => dumpLinks(createNetlink(), LITTLE_ENDIAN));
      return { before, dumped, after: linksFromIp(node.ip('-s', '-s', '-d', '-j', 'link')) };
    };
    let reading = read();
    for (let attempt = 1; attempt < 10 && !isDeepStrictEqual(reading.before, reading.after); attempt++) {
      reading = read();
    }
    const { dumped: dump, after: fromIp } = reading;
    expect(reading.before).toEqual(fromIp);
    expect(dump.interrupted).toBe(false);
    expect(comparableLinks(dump.links, fromIp)).toEqual(fromIp);
    const vethpod = dump.links.find((link) => link.name === 'vethpod1')!;
    expect(vethpod.kind).toBe('veth');
    expect(vethpod.linkNetnsId).toEqual(expect.any(Number));
    expect(vethpod.masterIndex).toBe(dump.links.find((link) => link.name === 'cbr0')!.index);
    expect(vethpod.stats64!.tx_packets).toBeGreaterThanOrEqual(3n);
    expect(dump.links.find((link) => link.name === 'brücke0')!.nameBytes).toEqual(Buffer.from('brücke0'));
  });

  it('keeps one receive buffer per client, yet a dump made inside a chunk handler leaves that chunk alone', () => {
    const netlink = createNetlink();
    inNamespace(node, () => {
      const first = dumpLinks(netlink, LITTLE_ENDIAN);
      let handled = 0;
      netlink.dump(NETLINK_ROUTE, 'nested', [linkDumpRequest(1, LITTLE_ENDIAN)], (chunk, length) => {
        const before = Buffer.from(chunk.subarray(0, length));
        // Another dump on the same client (sock_diag: different bytes) while this chunk is being handled.
        createSockDiagReader(netlink).tally(newTcpSocketTally(false), LITTLE_ENDIAN);
        expect(chunk.subarray(0, length)).toEqual(before);
        handled += 1;
        return dumpDone(before);
      });
      expect(handled).toBeGreaterThan(0);
      expect(dumpLinks(netlink, LITTLE_ENDIAN).links.map((link) => link.name)).toEqual(
        first.links.map((link) => link.name),
      );
    });
  });

  it('follows a rename: same ifindex, new name', () => {
    node.ip('link', 'set', 'vlocal1', 'down');
    node.ip('link', 'set', 'vlocal1', 'name', 'vrenamed');
    const dump = inNamespace(node, () => dumpLinks(createNetlink(), LITTLE_ENDIAN));
    const fromIp = linksFromIp(node.ip('-s', '-s', '-d', '-j', 'link'));
    expect(dump.links.map((link) => [link.index, link.name])).toEqual(fromIp.map((link) => [link.index, link.name]));
    expect(dump.links.some((link) => link.name === 'vrenamed')).toBe(true);
  });
});

/** Whether a chunk holds the dump's NLMSG_DONE (type 3) among its messages (host order: this test is little-endian). */
function dumpDone(chunk: Buffer): boolean {
  for (let offset = 0; offset + 16 <= chunk.length;) {
    const length = chunk.readUInt32LE(offset);
    if (chunk.readUInt16LE(offset + 4) === 3) return true;
    if (length < 16) return true;
    offset += (length + 3) & ~3;
  }
  return false;
}
