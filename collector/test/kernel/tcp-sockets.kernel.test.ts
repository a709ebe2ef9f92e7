import { OTHER_REMOTE, TCP_STATES, METRICS } from '../../src/catalog';
import type { Gathering } from '../../src/gatherer';
import { cleanup, connect, describeKernel, Namespace, type Link } from '../helpers/netns';
import { summariseSs } from '../helpers/ss';
import { holdTcpSockets } from '../helpers/tcp-holder';

const N = 6;
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
