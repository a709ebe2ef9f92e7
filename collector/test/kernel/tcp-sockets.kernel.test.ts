import { OTHER_REMOTE, TCP_STATES, METRICS, metricName } from '../../src/catalog';
import type { Gathering } from '../../src/gatherer';
import * as os from 'node:os';
import { inetDiagBothFamiliesDumpRequest } from '../../src/kernel/inet-diag';
import { createNetlink, NETLINK_SOCK_DIAG } from '../../src/kernel/netlink-socket';
import { createSockDiagReader, type SockDiagRequestKind } from '../../src/kernel/sock-diag';
import { servicePeerCounts, topRemotePeers } from '../../src/remote-peers';
import { newTcpSocketTally } from '../../src/kernel/tcp-table';
import { inNamespace } from '../helpers/in-namespace';
import { cleanup, COLLECTOR_CLI, connect, describeKernel, Namespace, waitForOutput, type Link } from '../helpers/netns';
import { summariseSs } from '../helpers/ss';
import { holdTcpSockets } from '../helpers/tcp-holder';

const N = 6;
const LITTLE_ENDIAN = os.endianness() === 'LE';
const SERVER_PORT = 7000;

describeKernel('tcp_sockets source in network namespaces', () => {
  let link: Link;
  beforeAll(async () => {
    const client = Namespace.create();
    const server = Namespace.create();
    link = connect(client, server);
    await holdTcpSockets(server, {
      listen: [
        [link.bAddr4, SERVER_PORT],
        [link.bAddr6, SERVER_PORT],
      ],
    });
    // In the client namespace: N listeners and N established connections, each half IPv4, half IPv6.
    await holdTcpSockets(client, {
      listen: Array.from({ length: N }, (_, i) => [i % 2 === 0 ? link.aAddr4 : link.aAddr6, 8000 + i] as const),
      connect: [
        [link.bAddr4, SERVER_PORT, N / 2],
        [link.bAddr6, SERVER_PORT, N / 2],
      ],
    });
  });
  afterAll(cleanup);

  function values(gathering: Gathering, key: 'tcpState' | 'tcpConnectionRemote'): Map<string, number> {
    return new Map(
      (gathering.samples[key] ?? []).map((sample) => [Object.values(sample.labels).join(' '), sample.value]),
    );
  }

  it(`counts N listening and N established sockets exactly in ${METRICS.tcpState.name}, as ss does`, () => {
    const ssBefore = link.a.exec('ss', '-tanH');
    const gathering = link.a.snapshot('--sources', 'tcp_sockets');
    const ssAfter = link.a.exec('ss', '-tanH');
    expect(ssAfter).toBe(ssBefore); // nothing moved while the collector read: a fair comparison
    const states = values(gathering, 'tcpState');
    expect([...states.keys()]).toEqual([...TCP_STATES]);
    expect(states.get('LISTEN')).toBe(N);
    expect(states.get('ESTABLISHED')).toBe(N);
    const ss = summariseSs(ssAfter);
    for (const state of TCP_STATES) expect([state, states.get(state)]).toEqual([state, ss.states[state] ?? 0]);
    const status = gathering.sources.find((source) => source.name === 'tcp_sockets');
    expect(status?.up).toBe(true);
    expect(status?.reason).toBeUndefined();
  });

  it(`shows the peer address and port, IPv4 and IPv6, in ${METRICS.tcpConnectionRemote.name}`, () => {
    const remote = values(link.a.snapshot('--sources', 'tcp_sockets'), 'tcpConnectionRemote');
    expect(remote).toEqual(
      new Map([
        [`${link.bAddr4} ${SERVER_PORT}`, N / 2],
        [`${link.bAddr6} ${SERVER_PORT}`, N / 2],
        [`${OTHER_REMOTE} ${OTHER_REMOTE}`, 0],
      ]),
    );
    const ss = summariseSs(link.a.exec('ss', '-tanH'));
    expect(ss.peers).toEqual(
      new Map([
        [`${link.bAddr4} ${SERVER_PORT}`, N / 2],
        [`${link.bAddr6} ${SERVER_PORT}`, N / 2],
      ]),
    );
    // On the server side each client socket has its own ephemeral port: inbound sockets count under the client's
    // address and the server's listening port, so the series do not change as connections come and go.
    for (const reader of ['netlink', 'procfs']) {
      const serverSide = values(
        link.b.snapshot('--sources', 'tcp_sockets', '--tcp-socket-reader', reader),
        'tcpConnectionRemote',
      );
      expect([reader, serverSide]).toEqual([
        reader,
        new Map([
          [`${link.aAddr4} ${SERVER_PORT}`, N / 2],
          [`${link.aAddr6} ${SERVER_PORT}`, N / 2],
          [`${OTHER_REMOTE} ${OTHER_REMOTE}`, 0],
        ]),
      ]);
    }
    expect(summariseSs(link.b.exec('ss', '-tanH')).peers).toEqual(
      new Map([
        [`${link.aAddr4} ${SERVER_PORT}`, N / 2],
        [`${link.aAddr6} ${SERVER_PORT}`, N / 2],
      ]),
    );
  });

  it('reads the same sockets over netlink SOCK_DIAG and from /proc/net/tcp{,6}', () => {
    const overNetlink = link.a.snapshot('--sources', 'tcp_sockets', '--tcp-socket-reader', 'netlink');
    const fromFiles = link.a.snapshot('--sources', 'tcp_sockets', '--tcp-socket-reader', 'procfs');
    expect(overNetlink.samples).toEqual(fromFiles.samples);
    expect(values(overNetlink, 'tcpState').get('ESTABLISHED')).toBe(N);
    expect(overNetlink.sources[0]).toMatchObject({ name: 'tcp_sockets', up: true });
  });

  it('tallies the same sockets with one both-families walk (TCPDIAG_GETSOCK) as with one request per family', () => {
    const tallyWith = (kind: SockDiagRequestKind) =>
      inNamespace(link.a, () => {
        const reader = createSockDiagReader(createNetlink(), kind);
        const tally = newTcpSocketTally(true);
        reader.tally(tally, LITTLE_ENDIAN);
        return { tally, kind: reader.requestKind() };
      });
    const both = tallyWith('both-families');
    const perFamily = tallyWith('per-family');
    expect(both.kind).toBe('both-families'); // this kernel serves the compatibility request
    // One walk meets IPv4 and IPv6 sockets in hash-bucket order, not family by family: compare what is exported.
    expect(both.tally.states).toEqual(perFamily.tally.states);
    expect(new Set(both.tally.listeningPorts)).toEqual(new Set(perFamily.tally.listeningPorts));
    expect(topRemotePeers(servicePeerCounts(both.tally), 1000, LITTLE_ENDIAN)).toEqual(
      topRemotePeers(servicePeerCounts(perFamily.tally), 1000, LITTLE_ENDIAN),
    );
    expect(both.tally.states[TCP_STATES.indexOf('ESTABLISHED')]).toBe(N);
    expect(both.tally.states[TCP_STATES.indexOf('LISTEN')]).toBe(N);
  });

  it('tallies the same sockets when worker threads make the dump (tallyOffThread) as on the main thread', async () => {
    const netlink = inNamespace(link.a, () => createNetlink());
    const reader = createSockDiagReader(netlink);
    const onMain = newTcpSocketTally(true);
    inNamespace(link.a, () => reader.tally(onMain, LITTLE_ENDIAN));
    for (let dump = 0; dump < 3; dump++) {
      const offThread = newTcpSocketTally(true);
      // The socket opens in the namespace (synchronously, inside the call); the walk runs on a worker thread.
      await inNamespace(link.a, () => reader.tallyOffThread(offThread, LITTLE_ENDIAN));
      expect(offThread.states).toEqual(onMain.states);
      expect(new Set(offThread.listeningPorts)).toEqual(new Set(onMain.listeningPorts));
      expect(topRemotePeers(servicePeerCounts(offThread), 1000, LITTLE_ENDIAN)).toEqual(
        topRemotePeers(servicePeerCounts(onMain), 1000, LITTLE_ENDIAN),
      );
    }
    expect(onMain.states[TCP_STATES.indexOf('ESTABLISHED')]).toBe(N);
  });

  it('rejects an off-thread dump whose chunk handler throws, and makes the next one', async () => {
    const netlink = inNamespace(link.a, () => createNetlink());
    const request = inetDiagBothFamiliesDumpRequest(1, LITTLE_ENDIAN);
    const failing = inNamespace(link.a, () =>
      netlink.dumpOffThread(NETLINK_SOCK_DIAG, 'sock_diag', request, () => {
        throw new Error('a parse error');
      }),
    );
    await expect(failing).rejects.toThrow('a parse error');
    const tally = newTcpSocketTally(false);
    await inNamespace(link.a, () => createSockDiagReader(netlink).tallyOffThread(tally, LITTLE_ENDIAN));
    expect(tally.states[TCP_STATES.indexOf('LISTEN')]).toBe(N);
  });

  it('ends an off-thread receive that gets no answer after its receive timeout, instead of hanging', async () => {
    // A message without NLM_F_REQUEST is taken by the kernel and never answered (netlink_rcv_skb acks only
    // requests, errors and NLM_F_ACK).
    const request = inetDiagBothFamiliesDumpRequest(1, LITTLE_ENDIAN);
    request.writeUInt16LE(0, 6);
    const startedAt = Date.now();
    const netlink = createNetlink();
    const silent = inNamespace(link.a, () =>
      netlink.dumpOffThread(NETLINK_SOCK_DIAG, 'sock_diag', request, () => true),
    );
    await expect(silent).rejects.toThrow(/sock_diag: recvmmsg returned -1 \(errno 11\)/); // EAGAIN: the timeout
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(4_500);
  }, 15_000);

  it('rejects an off-thread dump whose send the kernel refuses at once, not after the receive timeout', async () => {
    // A message larger than the socket's send buffer (212992 bytes by default): netlink_sendmsg says EMSGSIZE (90).
    const request = Buffer.alloc(1 << 20);
    request.set(inetDiagBothFamiliesDumpRequest(1, LITTLE_ENDIAN));
    const startedAt = Date.now();
    const netlink = createNetlink();
    const refused = inNamespace(link.a, () =>
      netlink.dumpOffThread(NETLINK_SOCK_DIAG, 'sock_diag', request, () => true),
    );
    await expect(refused).rejects.toThrow(/sock_diag send returned -1 \(errno 90\)/);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    // The client's receive area is free again: the next dump works.
    const tally = newTcpSocketTally(false);
    await inNamespace(link.a, () => createSockDiagReader(netlink).tallyOffThread(tally, LITTLE_ENDIAN));
    expect(tally.states[TCP_STATES.indexOf('LISTEN')]).toBe(N);
  });

  it('serves the same socket counts at every scrape when the dump is prefetched (every scrape after the first)', async () => {
    const child = link.a.spawn(process.execPath, [
      COLLECTOR_CLI,
      'serve',
      '--listen',
      '127.0.0.1:19431',
      '--sources',
      'tcp_sockets',
      '--log-level',
      'debug',
    ]);
    let log = '';
    for (const stream of [child.stdout!, child.stderr!])
      stream.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitForOutput(child, /ready: the sources are started/);
    const expected = values(link.a.snapshot('--sources', 'tcp_sockets'), 'tcpState');
    expect(expected.get('LISTEN')).toBe(N + 1);
    for (let scrape = 0; scrape < 4; scrape++) {
      const text = link.a.fetchText('http://127.0.0.1:19431/metrics');
      const established = new RegExp(`^${metricName(METRICS.tcpState)}\\{state="ESTABLISHED"[^}]*\\} (\\d+)$`, 'm');
      const listening = new RegExp(`^${metricName(METRICS.tcpState)}\\{state="LISTEN"[^}]*\\} (\\d+)$`, 'm');
      // The snapshot saw the serving collector's listener too; curl's connection to it comes on top.
      expect(Number(established.exec(text)?.[1])).toBeGreaterThanOrEqual(expected.get('ESTABLISHED')!);
      expect(Number(listening.exec(text)?.[1])).toBe(expected.get('LISTEN')!);
    }
    // The scrapes used the prefetched dump: an off-thread failure falls back with this warning.
    // The scrapes above ran synchronously: the collector's output is read once this test yields to the event loop.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(log).not.toMatch(/off the main thread failed/);
    expect(log).toMatch(/ready: the sources are started/);
    child.kill('SIGTERM');
  });

  it('skips the remote peers above --tcp-scan-max-sockets and says why, still counting states', () => {
    const gathering = link.a.snapshot('--sources', 'tcp_sockets', '--tcp-scan-max-sockets', '3');
    expect(gathering.samples.tcpConnectionRemote).toBeUndefined();
    const status = gathering.sources.find((source) => source.name === 'tcp_sockets');
    expect(status?.up).toBe(true);
    expect(status?.reason).toMatch(/^remote peers skipped: \d+ sockets > --tcp-scan-max-sockets 3$/);
    expect(Number(/skipped: (\d+)/.exec(status!.reason!)![1])).toBeGreaterThanOrEqual(2 * N);
    expect(values(gathering, 'tcpState').get('ESTABLISHED')).toBe(N);
  });
});
