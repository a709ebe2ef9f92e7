import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { LABEL, OTHER_REMOTE, TCP_STATES } from '../../src/catalog';
import { resolveConfig } from '../../src/config';
import { Gatherer, type Gathering } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import { TCPDIAG_GETSOCK } from '../../src/kernel/inet-diag';
import type { Samples, SourceContext } from '../../src/source';
import { parseSockstat, SOCKSTAT6_PROTOCOLS, SOCKSTAT_PROTOCOLS } from '../../src/kernel/net-sockstat';
import { createTcpSocketsSource, tcpSocketEstimate } from '../../src/sources/linux/tcp-sockets';
import { fixture } from '../helpers/fixtures';
import { recordedNetlink, type RecordedNetlink } from '../helpers/recorded-sock-diag';

/** A proc root holding the recorded tables of the client namespace and a sockstat saying how many sockets exist. */
function procRoot(options: { withTcp6: boolean }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-tcp-'));
  fs.mkdirSync(path.join(root, 'net'));
  fs.writeFileSync(
    path.join(root, 'net', 'sockstat'),
    'sockets: used 20\nTCP: inuse 9 orphan 0 tw 2 alloc 9 mem 1\nUDP: inuse 0 mem 0\n',
  );
  fs.writeFileSync(path.join(root, 'net', 'tcp'), fixture('linux/tcp-netns-a.tcp'), 'latin1');
  if (options.withTcp6) {
    fs.writeFileSync(path.join(root, 'net', 'sockstat6'), 'TCP6: inuse 4\nUDP6: inuse 0\n');
    fs.writeFileSync(path.join(root, 'net', 'tcp6'), fixture('linux/tcp-netns-a.tcp6'), 'latin1');
  }
  return root;
}

/** One source for the whole file: the note tests follow its state across gatherings. */
const tcpSocketsSource = createTcpSocketsSource();

function collect(root: string, flags: Record<string, string> = {}): Samples {
  const config = resolveConfig({ procPath: root, ...flags }, {});
  const context: SourceContext = {
    config,
    fs: createHostFs(config),
    log: pino({ level: 'silent' }),
  };
  const samples = tcpSocketsSource.collect(context);
  if (samples instanceof Promise) throw new Error('tcp_sockets is expected to gather synchronously');
  return samples;
}

describe('tcp_sockets source', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));
  const root = (withTcp6 = true) => {
    const made = procRoot({ withTcp6 });
    roots.push(made);
    return made;
  };

  it('estimates the table size from sockstat: in use (IPv4 and IPv6) plus TIME_WAIT', () => {
    const v4 = parseSockstat('TCP: inuse 9 orphan 0 tw 2\nUDP: inuse 1\n', 'net/sockstat', SOCKSTAT_PROTOCOLS);
    const v6 = parseSockstat('TCP6: inuse 4\nUDP6: inuse 0\n', 'net/sockstat6', SOCKSTAT6_PROTOCOLS);
    expect(tcpSocketEstimate({ v4, v6 })).toBe(15);
    expect(tcpSocketEstimate({ v4, v6: undefined })).toBe(11);
  });

  it('exports every state and the top-K peers plus "other" below the cap', () => {
    const samples = collect(root(), { tcpRemoteTopK: '2' });
    expect(samples.tcpState?.map((sample) => sample.labels[LABEL.state])).toEqual([...TCP_STATES]);
    const remote = samples.tcpConnectionRemote!;
    expect(remote).toHaveLength(3);
    expect(remote[0]).toEqual({ labels: { [LABEL.address]: '198.18.77.2', [LABEL.port]: '8080' }, value: 5 });
    expect(remote[2]!.labels).toEqual({ [LABEL.address]: OTHER_REMOTE, [LABEL.port]: OTHER_REMOTE });
    // 14 sockets with a peer in the recorded tables: 7 established, 2 SYN_SENT, 3 TIME_WAIT, 2 FIN_WAIT2.
    expect(remote.reduce((sum, sample) => sum + sample.value, 0)).toBe(14);
    expect(tcpSocketsSource.note?.()).toBeUndefined();
  });

  it('above --tcp-scan-max-sockets: states only, and the note says why', () => {
    const samples = collect(root(), { tcpScanMaxSockets: '14' });
    expect(samples.tcpConnectionRemote).toBeUndefined();
    expect(samples.tcpState).toHaveLength(TCP_STATES.length);
    expect(tcpSocketsSource.note?.()).toBe('remote peers skipped: 15 sockets > --tcp-scan-max-sockets 14');
    collect(root(), { tcpScanMaxSockets: '15' });
    expect(tcpSocketsSource.note?.()).toBeUndefined();
  });

  it('works without IPv6 (no tcp6, no sockstat6)', () => {
    const samples = collect(root(false));
    const lines = fixture('linux/tcp-netns-a.tcp').split('\n').length - 2;
    expect(samples.tcpState!.reduce((sum, sample) => sum + sample.value, 0)).toBe(lines);
  });

  it('fails (source down) when /proc/net/tcp is missing', () => {
    const made = root();
    fs.rmSync(path.join(made, 'net', 'tcp'));
    expect(() => collect(made)).toThrow(/ENOENT/);
  });
});

describe('tcp_sockets over netlink, prefetched off the main thread', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));

  /** A gatherer of one tcp_sockets source over `netlink`, reading netlink (the proc root only holds sockstat). */
  function gathererOver(netlink: RecordedNetlink, lines: Record<string, unknown>[]) {
    const root = procRoot({ withTcp6: true });
    roots.push(root);
    const config = resolveConfig({ procPath: root, tcpSocketReader: 'netlink' }, {});
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n'))
          if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const source = createTcpSocketsSource(() => netlink);
    return new Gatherer([source], { config, fs: createHostFs(config), log: pino({ level: 'info' }, sink) });
  }
  const established = (gathering: Gathering) =>
    gathering.samples.tcpState?.find((sample) => sample.labels[LABEL.state] === 'ESTABLISHED')?.value;

  it('takes the tally the prefetch made, from the second gathering on (the first starts the source)', async () => {
    const netlink = recordedNetlink();
    const lines: Record<string, unknown>[] = [];
    const gatherer = gathererOver(netlink, lines);
    const gatherings = [await gatherer.gather(), await gatherer.gather(), await gatherer.gather()];
    expect(netlink.sent).toEqual([TCPDIAG_GETSOCK]); // the first gathering, on the main thread
    expect(netlink.offThreadSent).toEqual([TCPDIAG_GETSOCK, TCPDIAG_GETSOCK]);
    expect(new Set(gatherings.map(established))).toEqual(new Set([7]));
    expect(gatherings.map((g) => g.samples)).toEqual([
      gatherings[0]!.samples,
      gatherings[0]!.samples,
      gatherings[0]!.samples,
    ]);
    expect(lines.filter((line) => line['level'] === 40)).toEqual([]);
  });

  it('dumps on the main thread for good, saying why once, when only the off-thread dump fails', async () => {
    const netlink = recordedNetlink(undefined, { failOffThread: 'recvmmsg returned -1 (errno 14)' });
    const lines: Record<string, unknown>[] = [];
    const gatherer = gathererOver(netlink, lines);
    const gatherings = [await gatherer.gather(), await gatherer.gather(), await gatherer.gather()];
    expect(gatherings.map((g) => [g.sources[0]!.up, established(g)])).toEqual([
      [true, 7],
      [true, 7],
      [true, 7],
    ]);
    expect(netlink.offThreadSent).toEqual([TCPDIAG_GETSOCK]); // tried once, at the second gathering
    expect(netlink.sent).toEqual([TCPDIAG_GETSOCK, TCPDIAG_GETSOCK, TCPDIAG_GETSOCK]);
    const warnings = lines.filter((line) => line['level'] === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      msg: 'netlink SOCK_DIAG off the main thread failed: dumping on it',
      err: 'recvmmsg returned -1 (errno 14)',
    });
  });

  it('keeps dumping off the main thread when the main thread fails alike (not the worker threads at fault)', async () => {
    const netlink = recordedNetlink(undefined, { failOffThread: 'errno 24', failOnMain: 'errno 24' });
    const gatherer = gathererOver(netlink, []);
    const gatherings = [await gatherer.gather(), await gatherer.gather(), await gatherer.gather()];
    expect(gatherings.map((g) => [g.sources[0]!.up, g.sources[0]!.reason])).toEqual([
      [false, 'errno 24'],
      [false, 'errno 24'],
      [false, 'errno 24'],
    ]);
    expect(netlink.offThreadSent).toEqual([TCPDIAG_GETSOCK, TCPDIAG_GETSOCK]);
  });
});
