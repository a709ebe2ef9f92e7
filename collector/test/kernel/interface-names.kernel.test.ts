/**
 * Interface names that are not UTF-8, in network namespaces this test creates: two veths whose names differ only in
 * such bytes (`t6\xff\xfe`, `t6\xfe\xff`), and a veth pair in the same namespace, one end named with the first
 * one's label spelled out with real backslashes, the other an ordinary name. Each must be its own series with its own counters in netdev (as `ip -s link` counts them
 * around our read), forward must follow the uplink among them, and ethtool must read each veth's own driver
 * (its peer_ifindex is the ifindex of that veth's peer). Before interface-name.ts, the two veths decoded to one
 * `t6\uFFFD\uFFFD` and netdev, forward and ethtool went down with "interface t6�� appears twice".
 */
import { spawnSync } from 'node:child_process';
import { LABEL, POD_INTERFACES_AGGREGATE } from '../../src/catalog';
import type { Gathering } from '../../src/gatherer';
import { parseEthtoolStatistics } from '../helpers/ethtool-text';
import { cleanup, COLLECTOR_CLI, describeKernel, Namespace, run, uniqueName, waitForOutput } from '../helpers/netns';
import { interfaceStatsByName } from '../helpers/interface-stats';

const hasEthtool = spawnSync('sh', ['-c', 'command -v ethtool'], { stdio: 'ignore' }).status === 0;

/** A name as a bash ANSI-C string, every byte as \xNN: the only way to hand `ip` bytes that are not UTF-8. */
function ansiC(name: Buffer): string {
  return `$'${[...name].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('')}'`;
}

function bash(script: string): string {
  return run('bash', ['-c', script]);
}

/** `ip -s link` of one device (rtnetlink IFLA_STATS64: the kernel's counters), by its name's bytes. */
function kernelStats(ns: Namespace, name: Buffer): { ifindex: number; rxPackets: number; txPackets: number } {
  const [link] = JSON.parse(bash(`ip -n ${ns.name} -j -s link show dev ${ansiC(name)}`)) as {
    ifindex: number;
    stats64: { rx: { packets: number }; tx: { packets: number } };
  }[];
  return { ifindex: link!.ifindex, rxPackets: link!.stats64.rx.packets, txPackets: link!.stats64.tx.packets };
}

function statusOf(gathering: Gathering, source: string) {
  const status = gathering.sources.find((s) => s.name === source)!;
  return { name: status.name, up: status.up, reason: status.up ? undefined : status.reason };
}

const UPLINK = Buffer.from([0x74, 0x36, 0xff, 0xfe]); // t6\xff\xfe
const OTHER = Buffer.from([0x74, 0x36, 0xfe, 0xff]); // t6\xfe\xff
const SPELLED = Buffer.from('t6\\xff\\xfe', 'latin1'); // ten bytes with two real backslashes
const UPLINK_LABEL = 't6\\xff\\xfe';
const OTHER_LABEL = 't6\\xfe\\xff';
const SPELLED_LABEL = 't6\\\\xff\\\\xfe';

describeKernel('interface names that are not UTF-8', () => {
  let a: Namespace;
  let b: Namespace;
  const plain = uniqueName('kp');
  const peerOfUplink = uniqueName('pu');
  const peerOfOther = uniqueName('po');
  beforeAll(() => {
    a = Namespace.create();
    b = Namespace.create();
    // Both veths are made inside `a` with their peers in `b`: deleting the namespaces removes every link.
    bash(`ip -n ${a.name} link add ${ansiC(UPLINK)} type veth peer name ${peerOfUplink} netns ${b.name}`);
    bash(`ip -n ${a.name} link add ${ansiC(OTHER)} type veth peer name ${peerOfOther} netns ${b.name}`);
    // A veth pair inside `a` (this kernel may have no dummy driver): the spelled-out name, and an ordinary one.
    bash(`ip -n ${a.name} link add ${ansiC(SPELLED)} type veth peer name ${plain}`);
    bash(
      `ip -n ${a.name} addr add 198.19.61.1/24 dev ${ansiC(UPLINK)} && ip -n ${a.name} link set ${ansiC(UPLINK)} up`,
    );
    bash(`ip -n ${a.name} addr add 198.19.62.1/24 dev ${ansiC(OTHER)} && ip -n ${a.name} link set ${ansiC(OTHER)} up`);
    b.ip('addr', 'add', '198.19.61.2/24', 'dev', peerOfUplink);
    b.ip('addr', 'add', '198.19.62.2/24', 'dev', peerOfOther);
    b.ip('link', 'set', peerOfUplink, 'up');
    b.ip('link', 'set', peerOfOther, 'up');
    a.ip('route', 'add', 'default', 'via', '198.19.61.2');
  });
  afterAll(cleanup);

  it('keeps netdev and forward up, each interface its own series with its own counters', () => {
    const before = a.snapshot('--sources', 'netdev,forward');
    const count = 25;
    a.exec('ping', '-c', String(count), '-i', '0.01', '-W', '2', '-q', '198.19.61.2');
    const kernelBefore = [UPLINK, OTHER].map((name) => kernelStats(a, name));
    const after = a.snapshot('--sources', 'netdev,forward');
    const perPod = a.snapshot('--sources', 'netdev', '--per-pod-interface-stats');
    const kernelAfter = [UPLINK, OTHER].map((name) => kernelStats(a, name));

    for (const gathering of [after, perPod]) {
      for (const source of gathering.sources) {
        expect({ name: source.name, up: source.up }).toEqual({ name: source.name, up: true });
      }
    }
    // The other veth's peer is in another namespace: a pod interface by the kernel rule, summed by its ifindex,
    // which the link dump gives under the same label as /proc/net/dev (else the sum would be absent).
    const ours = interfaceStatsByName(after);
    expect([...ours.keys()].sort()).toEqual(
      ['lo', plain, SPELLED_LABEL, UPLINK_LABEL, POD_INTERFACES_AGGREGATE].sort(),
    );
    const onePerPod = interfaceStatsByName(perPod);
    expect([...onePerPod.keys()].sort()).toEqual(['lo', plain, SPELLED_LABEL, OTHER_LABEL, UPLINK_LABEL].sort());
    // Each veth's counters lie between the kernel's two reads around ours: the uplink's, not the other's.
    const within = (label: string, value: number, i: number, direction: 'tx' | 'rx') => {
      const [low, high] = [kernelBefore[i]!, kernelAfter[i]!].map((k) =>
        direction === 'tx' ? k.txPackets : k.rxPackets,
      );
      return [label, direction, value >= low! && value <= high!];
    };
    for (const [label, stats, i] of [
      [UPLINK_LABEL, ours.get(UPLINK_LABEL)!, 0],
      [OTHER_LABEL, ours.get(POD_INTERFACES_AGGREGATE)!, 1],
      [OTHER_LABEL, onePerPod.get(OTHER_LABEL)!, 1],
    ] as const) {
      for (const direction of ['tx', 'rx'] as const) {
        expect(within(label, stats.get(`${direction}_packets`)!, i, direction)).toEqual([label, direction, true]);
      }
    }
    const grew = (label: string) =>
      ours.get(label)!.get('tx_packets')! - interfaceStatsByName(before).get(label)!.get('tx_packets')!;
    expect(grew(UPLINK_LABEL)).toBeGreaterThanOrEqual(count);
    expect(onePerPod.get(OTHER_LABEL)!.get('tx_packets')!).toBeLessThan(count);
    // The non-pod extras come from the link dump by name: found for the uplink too.
    expect(ours.get(UPLINK_LABEL)!.has('rx_nohandler')).toBe(true);
    // forward follows the uplink that holds the default route (its ifindex read from sysfs by the name's bytes).
    const forwardEgress = after.samples.forwardCount?.find((s) => s.labels[LABEL.direction] === 'egress')?.value;
    expect(forwardEgress).toBe(ours.get(UPLINK_LABEL)!.get('tx_packets'));
  });

  it('takes a label as an --uplink-interfaces pattern (\\ is no glob character: escapes match as written)', () => {
    const gathering = a.snapshot('--sources', 'forward', '--uplink-interfaces', OTHER_LABEL.replace('t6', 't?'));
    expect(statusOf(gathering, 'forward')).toEqual({ name: 'forward', up: true, reason: undefined });
    const egress = gathering.samples.forwardCount?.find((s) => s.labels[LABEL.direction] === 'egress')?.value;
    expect(egress).toBe(kernelStats(a, OTHER).txPackets);
  });

  (hasEthtool ? it : it.skip)('reads each veth through its own name: ethtool up, peer_ifindex of its own peer', () => {
    // The other veth is pod-side (its peer is in another namespace): read only with per-pod statistics on.
    const gathering = a.snapshot('--sources', 'ethtool', '--ethtool-interfaces', 't6*', '--per-pod-interface-stats');
    expect(statusOf(gathering, 'ethtool')).toEqual({ name: 'ethtool', up: true, reason: undefined });
    const ours = interfaceStatsByName(gathering);
    // The two veths and the spelled-out one each read as their own device.
    expect([...ours.keys()].sort()).toEqual([SPELLED_LABEL, OTHER_LABEL, UPLINK_LABEL].sort());
    const peerIndex = (peer: string) =>
      (JSON.parse(b.ip('-j', 'link', 'show', 'dev', peer)) as { ifindex: number }[])[0]!.ifindex;
    expect(ours.get(UPLINK_LABEL)!.get('peer_ifindex')).toBe(peerIndex(peerOfUplink));
    expect(ours.get(OTHER_LABEL)!.get('peer_ifindex')).toBe(peerIndex(peerOfOther));
    expect(ours.get(SPELLED_LABEL)!.get('peer_ifindex')).toBe(
      (JSON.parse(a.ip('-j', 'link', 'show', 'dev', plain)) as { ifindex: number }[])[0]!.ifindex,
    );
    // Every statistic as ethtool -S prints it for the device of those bytes.
    const printed = parseEthtoolStatistics(bash(`ip netns exec ${a.name} ethtool -S ${ansiC(OTHER)}`));
    expect([...ours.get(OTHER_LABEL)!.keys()]).toEqual([...printed.keys()]);
  });

  it('tcp_flags counts on the uplinks nftables can name, and says which ones it cannot (no wrong match)', async () => {
    const table = uniqueName('kt');
    const port = 19_600 + Math.floor(Math.random() * 300);
    const flags = ['--sources', 'tcp_flags', '--nft-table', table, '--uplink-interfaces', 't6*,kp*'];
    const child = a.spawn(process.execPath, [COLLECTOR_CLI, 'serve', '--listen', `127.0.0.1:${port}`, ...flags]);
    try {
      await waitForOutput(child, /ready: the sources are started/);
      const up = /^kappie_source_up\{[^}]*source="tcp_flags"[^}]*\} (\d)$/m.exec(
        a.fetchText(`http://127.0.0.1:${port}/metrics`),
      );
      expect(up?.[1]).toBe('1');
      // Only the ordinary name is in the set: an nft string cannot hold the others' bytes or backslashes.
      expect(a.exec('nft', 'list', 'set', 'inet', table, 'uplinks')).toMatch(
        new RegExp(`elements = \\{ "${plain}" \\}`),
      );
      const status = a.snapshot(...flags).sources.find((source) => source.name === 'tcp_flags')!;
      expect(status.up).toBe(true);
      const note = status.reason ?? '';
      for (const label of [UPLINK_LABEL, OTHER_LABEL, SPELLED_LABEL]) {
        expect(note).toContain(`uplink "${label}" cannot be matched by nftables`);
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
    expect(a.exec('nft', 'list', 'tables')).not.toContain(table);
  });
});
