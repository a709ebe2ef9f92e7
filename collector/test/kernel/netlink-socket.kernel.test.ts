/**
 * The sockets a netlink client keeps open between dumps (kernel/netlink-socket.ts), on the real kernel in a namespace
 * of our own holding the 512-counter nftables table of tcp_flags (a dump of several datagrams): one socket per
 * protocol and kind of dump is kept after a clean dump and reused, close() closes them, and a dump that failed midway
 * or that the kernel flagged as interrupted leaves nothing the next dump of the same client could read as its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import {
  dumpNftCounters,
  dumpNftCountersOffThread,
  nftCounterDumpRequest,
  nftCounterName,
  nftCounterNumber,
  parseNftCounterChunk,
  type NftCounterObject,
} from '../../src/kernel/nft-counters';
import { createNetlink, NETLINK_NETFILTER, type Netlink } from '../../src/kernel/netlink-socket';
import { dumpLinks } from '../../src/kernel/rtnetlink-link';
import { parseNftCounters } from '../../src/sources/linux/nft-json';
import { createTableScript, listCountersArgs } from '../../src/sources/linux/nft-ruleset';
import { resolveConfig } from '../../src/config';
import { Gatherer } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger } from '../../src/log';
import { createForwardSource } from '../../src/sources/linux/forward';
import { createNetdevSource } from '../../src/sources/linux/netdev';
import { createTcpSocketsSource } from '../../src/sources/linux/tcp-sockets';
import { inNamespace } from '../helpers/in-namespace';
import { cleanup, describeKernel, Namespace, run, uniqueName } from '../helpers/netns';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** The inodes of the sockets this process holds open (`socket:[N]` links under /proc/self/fd). */
function openSockets(): Set<string> {
  const sockets = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith('socket:')) sockets.add(target);
    } catch {
      // The fd of the directory listing itself, closed by now.
    }
  }
  return sockets;
}

/** The sockets of `after` that `before` did not hold. */
function added(before: ReadonlySet<string>, after: ReadonlySet<string>): string[] {
  return [...after].filter((socket) => !before.has(socket));
}

/** A counter object as a comparable row (name, packets, bytes). */
function rows(counters: readonly NftCounterObject[]): [string, number, number][] {
  return counters.map((c) => [c.name, Number(c.packets), Number(c.bytes)]);
}

describeKernel('netlink sockets kept between dumps', () => {
  let ns: Namespace;
  const table = uniqueName('ktks');
  let churn: ChildProcess | undefined;
  beforeAll(() => {
    ns = Namespace.create('ktks');
    ns.ip('link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1');
    run('ip', ['netns', 'exec', ns.name, 'nft', '-f', '-'], createTableScript({ inet: ['veth0'], bridge: [] }, table));
  });
  afterAll(() => {
    churn?.kill('SIGKILL');
    cleanup();
  });

  const fromNft = () =>
    [...parseNftCounters(ns.exec('nft', ...listCountersArgs(table)), 'inet', table)].map(
      ([name, { packets, bytes }]) => [name, packets, bytes] as [string, number, number],
    );
  const sorted = (list: [string, number, number][]) => [...list].sort((a, b) => a[0].localeCompare(b[0]));
  const dump = (netlink: Netlink) => inNamespace(ns, () => dumpNftCounters(netlink, 'inet', table, LITTLE_ENDIAN));

  it('keeps one socket per protocol and kind of dump, reuses it, and close() closes them', async () => {
    const before = openSockets();
    const netlink = createNetlink();
    const first = dump(netlink);
    const kept = added(before, openSockets());
    expect(kept).toHaveLength(1);
    // The same socket answers again, even outside the namespace: it belongs to the namespace it was opened in.
    expect(rows(dumpNftCounters(netlink, 'inet', table, LITTLE_ENDIAN))).toEqual(rows(first));
    expect(added(before, openSockets())).toEqual(kept);
    // Another protocol and an off-thread dump keep a socket each.
    const links = inNamespace(ns, () => dumpLinks(netlink, LITTLE_ENDIAN));
    expect(links.links.map((link) => link.name).sort()).toEqual(['lo', 'veth0', 'veth1']);
    const offThread = await inNamespace(ns, () =>
      dumpNftCountersOffThread(netlink, 'inet', table, LITTLE_ENDIAN, {
        counted: 0,
        interrupted: false,
        counter() {
          this.counted += 1;
        },
      }),
    );
    expect(offThread.counted).toBe(512);
    expect(added(before, openSockets())).toHaveLength(3);
    netlink.close();
    expect(added(before, openSockets())).toEqual([]);
    // A closed client opens a new socket at its next dump.
    expect(rows(dump(netlink))).toEqual(rows(first));
    netlink.close();
  });

  it('closes the socket of a dump that failed midway: the next dump of the client reads only its own answer', async () => {
    const netlink = createNetlink();
    const expected = sorted(fromNft());
    let datagrams = 0;
    inNamespace(ns, () =>
      netlink.dump(
        NETLINK_NETFILTER,
        'counting',
        [nftCounterDumpRequest('inet', table, 1, LITTLE_ENDIAN)],
        (chunk, length) => {
          datagrams += 1;
          return parseNftCounterChunk(chunk, length, LITTLE_ENDIAN, { counters: [], interrupted: false });
        },
      ),
    );
    // Several datagrams, so a dump stopped after the first leaves the others queued on its socket.
    expect(datagrams).toBeGreaterThan(2);
    const before = openSockets();
    const failing = () =>
      netlink.dump(NETLINK_NETFILTER, 'failing', [nftCounterDumpRequest('inet', table, 1, LITTLE_ENDIAN)], () => {
        throw new Error('handler failed on the first datagram');
      });
    expect(() => inNamespace(ns, failing)).toThrow('handler failed on the first datagram');
    expect(added(openSockets(), before)).toHaveLength(1); // the kept socket went with the failure
    expect(sorted(rows(dump(netlink)))).toEqual(expected);

    // The same off the main thread: a handler that throws on the first batch, then a whole dump.
    const offThread = (onCounter: () => void) =>
      inNamespace(ns, () =>
        dumpNftCountersOffThread(netlink, 'inet', table, LITTLE_ENDIAN, {
          counters: [] as [string, number, number][],
          interrupted: false,
          counter(at) {
            onCounter();
            this.counters.push([nftCounterName(at), nftCounterNumber(at, 'packets'), nftCounterNumber(at, 'bytes')]);
          },
        }),
      );
    await expect(offThread(() => undefined)).resolves.toEqual(expect.objectContaining({ interrupted: false }));
    await expect(
      offThread(() => {
        throw new Error('sink failed');
      }),
    ).rejects.toThrow('sink failed');
    expect(sorted((await offThread(() => undefined)).counters)).toEqual(expected);
    netlink.close();
  });

  it('after a dump the kernel flagged as interrupted, the next dump of the client is whole and right', () => {
    const netlink = createNetlink();
    // Commits to another table of the namespace, as fast as nft runs: each bumps the ruleset generation, which the
    // kernel checks between the datagrams of a counter dump (NLM_F_DUMP_INTR).
    churn = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns.name,
        'sh',
        '-c',
        `nft add table inet ${table}c; while :; do nft add counter inet ${table}c x; nft delete counter inet ${table}c x; done`,
      ],
      { stdio: 'ignore' },
    );
    let interrupted = false;
    const deadline = Date.now() + 20_000;
    while (!interrupted && Date.now() < deadline) {
      const dumped = { counters: [] as NftCounterObject[], interrupted: false };
      inNamespace(ns, () =>
        netlink.dump(
          NETLINK_NETFILTER,
          'churned',
          [nftCounterDumpRequest('inet', table, 1, LITTLE_ENDIAN)],
          (chunk, length) => parseNftCounterChunk(chunk, length, LITTLE_ENDIAN, dumped),
        ),
      );
      interrupted = dumped.interrupted;
    }
    churn.kill('SIGKILL');
    churn = undefined;
    expect(interrupted).toBe(true);
    expect(sorted(rows(dump(netlink)))).toEqual(sorted(fromNft()));
    netlink.close();
  });

  it('closes the sockets its sources keep when the collector stops', async () => {
    const before = openSockets();
    const config = resolveConfig({}, {});
    const hostFs = createHostFs(config);
    const gatherer = new Gatherer([createNetdevSource(), createForwardSource(), createTcpSocketsSource()], {
      config,
      fs: hostFs,
      log: silentLogger(),
    });
    for (let gathering = 0; gathering < 3; gathering++) {
      const { sources } = await gatherer.gather();
      expect(sources.map(({ name, up }) => [name, up])).toEqual([
        ['netdev', true],
        ['forward', true],
        ['tcp_sockets', true],
      ]);
    }
    // The link dump's (one for the gathering, whichever source made it) and sock_diag's off-thread dump's.
    const kept = added(before, openSockets());
    expect(kept.length).toBeGreaterThanOrEqual(2);
    await gatherer.stop();
    hostFs.close();
    expect(added(before, openSockets())).toEqual([]);
  });
});
