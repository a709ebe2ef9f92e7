import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { LABEL, OTHER_REMOTE, TCP_STATES } from '../../src/catalog';
import { resolveConfig } from '../../src/config';
import { createHostFs } from '../../src/kernel/host-fs';
import type { Samples, SourceContext } from '../../src/source';
import { parseSockstat, SOCKSTAT6_PROTOCOLS, SOCKSTAT_PROTOCOLS } from '../../src/kernel/net-sockstat';
import { createTcpSocketsSource, tcpSocketEstimate } from '../../src/sources/linux/tcp-sockets';
import { fixture } from '../helpers/fixtures';

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
