/**
 * A one-shot `kappie snapshot` reads the tables of the collector serving in its network namespace: the inet table,
 * and the bridge table where it exists. Each is one nftables netlink dump, counted here on the real kernel in a
 * namespace of our own (the netlink socket opened there through /proc/<pid> of a process inside it).
 */
import { NftMissingObjectError } from '../../src/kernel/nft-command';
import { createNetlink, type Netlink } from '../../src/kernel/netlink-socket';
import { readServingCounters } from '../../src/sources/linux/tcp-flags';
import { cleanup, describeKernel, Namespace, uniqueName } from '../helpers/netns';

/** The real netlink client of the namespace of `pid`, counting the requests it sends. */
function countingNetlink(pid: number): { netlink: Netlink; requests: () => number } {
  const real = createNetlink({ procPath: `/proc/${pid}` });
  let sent = 0;
  return {
    netlink: {
      dump(protocol, what, requests, onChunk) {
        sent += requests.length;
        real.dump(protocol, what, requests, onChunk);
      },
      dumpOffThread(protocol, what, request, onChunk) {
        sent += 1;
        return real.dumpOffThread(protocol, what, request, onChunk);
      },
      close: () => real.close(),
    },
    requests: () => sent,
  };
}

describeKernel("the one-shot read of a serving collector's tcp_flags tables", () => {
  let ns: Namespace;
  let pid: number;
  const table = uniqueName('kf');

  beforeAll(() => {
    ns = Namespace.create('kf');
    pid = ns.spawn('sleep', ['600']).pid!;
  });
  afterAll(cleanup);

  it('dumps the inet and the bridge table once each, and sums their counters by name', () => {
    ns.exec('nft', 'add', 'table', 'inet', table);
    ns.exec('nft', 'add', 'counter', 'inet', table, 'syn', 'packets', '3', 'bytes', '180');
    let { netlink, requests } = countingNetlink(pid);
    expect(readServingCounters(netlink, table)).toEqual(new Map([['syn', { packets: 3, bytes: 180 }]]));
    expect(requests()).toBe(2);

    ns.exec('nft', 'add', 'table', 'bridge', table);
    ns.exec('nft', 'add', 'counter', 'bridge', table, 'syn', 'packets', '2', 'bytes', '120');
    ({ netlink, requests } = countingNetlink(pid));
    expect(readServingCounters(netlink, table)).toEqual(new Map([['syn', { packets: 5, bytes: 300 }]]));
    expect(requests()).toBe(2);
  });

  it('says the inet table is missing when nothing serves', () => {
    const { netlink } = countingNetlink(pid);
    expect(() => readServingCounters(netlink, uniqueName('kf'))).toThrow(NftMissingObjectError);
  });
});
