/**
 * The netdev, forward and snmp sources' reading side, on recorded files laid out as a proc and a sys tree (the real
 * file layout --proc-path and --sys-path point at).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { DIRECTION, LABEL, POD_INTERFACES_AGGREGATE } from '../../src/catalog';
import { resolveConfig } from '../../src/config';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger } from '../../src/log';
import type { SampleView, Source, SourceContext } from '../../src/source';
import { createForwardSource } from '../../src/sources/linux/forward';
import { parseNetDev as parseNetDevBytes } from '../../src/kernel/net-dev';
import { createNetdevSource, extrasFromLinkStats } from '../../src/sources/linux/netdev';
import { LINK_STATS64_FIELDS, type LinkStats64, type RtnetlinkLink } from '../../src/kernel/rtnetlink-link';
import { createSnmpSource } from '../../src/sources/linux/snmp';
import { FIXTURES } from '../helpers/fixtures';

/** The parser given a test's text as its UTF-8 bytes (the file holds bytes). */
const parseNetDev = (text: string, file?: string) => parseNetDevBytes(Buffer.from(text, 'utf8'), file);

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

/** Writes class/net/NAME/ifindex under `sys` for each interface of a /proc/net/dev text, numbered from 1. */
function writeIfindexes(sys: string, netDevText: string, first = 1): void {
  parseNetDev(netDevText).forEach(({ name }, i) => {
    fs.mkdirSync(path.join(sys, 'class', 'net', name), { recursive: true });
    fs.writeFileSync(path.join(sys, 'class', 'net', name, 'ifindex'), `${first + i}\n`);
  });
}

/**
 * A proc tree holding the recorded net/ files of `host`, and a sys tree with each interface's ifindex (as every real
 * sysfs has) and the given statistics files.
 */
function hostTree(host: string, sysStatistics: Record<string, Record<string, string>> = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-net-'));
  roots.push(root);
  fs.mkdirSync(path.join(root, 'proc', 'net'), { recursive: true });
  for (const file of fs.readdirSync(path.join(FIXTURES, 'linux', 'net', host))) {
    fs.copyFileSync(path.join(FIXTURES, 'linux', 'net', host, file), path.join(root, 'proc', 'net', file));
  }
  writeIfindexes(path.join(root, 'sys'), fs.readFileSync(path.join(root, 'proc', 'net', 'dev'), 'latin1'));
  for (const [name, files] of Object.entries(sysStatistics)) {
    const dir = path.join(root, 'sys', 'class', 'net', name, 'statistics');
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  }
  return { proc: path.join(root, 'proc'), sys: path.join(root, 'sys') };
}

function context(
  tree: { proc: string; sys: string },
  flags: Record<string, string | boolean> = {},
  log = silentLogger(),
) {
  const config = resolveConfig({ procPath: tree.proc, sysPath: tree.sys, ...flags }, {});
  return { config, fs: createHostFs(config), log } satisfies SourceContext;
}

async function collect(source: Source, ctx: SourceContext) {
  return await source.collect(ctx);
}

describe('linux net sources on recorded trees', () => {
  it('netdev adds the sysfs extras an interface has, and skips missing files', async () => {
    const tree = hostTree('veth', { eth0: { rx_missed_errors: '5\n', rx_crc_errors: '2\n' } });
    const samples = (await collect(createNetdevSource(), context(tree))).interfaceStats!;
    const of = (name: string) => samples.filter((s) => s.labels[LABEL.interfaceName] === name);
    expect(of('eth0')).toHaveLength(18);
    expect(of('eth0').find((s) => s.labels[LABEL.statisticName] === 'rx_missed_errors')?.value).toBe(5);
    expect(of('lo')).toHaveLength(16);
  });

  it("netdev takes the extras from a link's IFLA_STATS64 when the dump lists it: a counter the kernel lacks is absent", () => {
    const stats = Object.fromEntries(LINK_STATS64_FIELDS.slice(0, 23).map((field) => [field, 0n])) as LinkStats64;
    const link = { name: 'eth0', stats64: { ...stats, rx_missed_errors: 5n, rx_crc_errors: 2n } } as RtnetlinkLink;
    const links = new Map([['eth0', link]]);
    expect(extrasFromLinkStats(links, 'eth0')).toEqual({ rx_missed_errors: 5, rx_crc_errors: 2 });
    expect(extrasFromLinkStats(links, 'eth1')).toBeUndefined();
    const newer = { name: 'eth0', stats64: { ...link.stats64!, rx_nohandler: 7n } } as RtnetlinkLink;
    expect(extrasFromLinkStats(new Map([['eth0', newer]]), 'eth0')).toEqual({
      rx_missed_errors: 5,
      rx_crc_errors: 2,
      rx_nohandler: 7,
    });
  });

  it('netdev sums the recorded 200 pod interfaces without reading their sysfs', async () => {
    // A malformed file that would fail the gathering if a pod interface's sysfs were read.
    const tree = hostTree('manyveth', { veth00000000000: { rx_missed_errors: 'not read' } });
    const samples = (await collect(createNetdevSource(), context(tree))).interfaceStats!;
    expect(samples.filter((s) => s.labels[LABEL.interfaceName] === POD_INTERFACES_AGGREGATE)).toHaveLength(16);
  });

  it('forward with no default route: no series, a note, and one log line however many gatherings', async () => {
    const lines: string[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const source = createForwardSource();
    const ctx = context(hostTree('manyveth'), {}, log);
    for (let i = 0; i < 3; i++) expect(await collect(source, ctx)).toEqual({});
    expect(source.note?.()).toMatch(/no IPv4 or IPv6 default route/);
    expect(lines.filter((line) => line.includes('default route'))).toHaveLength(1);
    const withUplink = await collect(createForwardSource(), context(hostTree('nov6')));
    expect(withUplink.forwardBytes).toHaveLength(2);
  });

  it('netdev and forward say where sysfs is missing: interfaces are told apart by their ifindex there', async () => {
    const tree = hostTree('nov6');
    fs.rmSync(tree.sys, { recursive: true });
    const message = /cannot list .*class\/net \(ENOENT\).*--sys-path/;
    await expect(collect(createForwardSource(), context(tree))).rejects.toThrow(message);
    await expect(collect(createNetdevSource(), context(tree))).rejects.toThrow(message);
    // Pod interfaces reported one by one need no identity.
    expect(
      (await collect(createNetdevSource(), context(tree, { perPodInterfaceStats: true }))).interfaceStats,
    ).toHaveLength(32);
  });

  it('snmp reads the three files, and works when snmp6 is absent (no IPv6)', async () => {
    const tree = hostTree('veth');
    const samples = await collect(createSnmpSource(), context(tree));
    expect(samples.udpConnectionStats!.map((s) => s.labels[LABEL.statisticName])).toContain('Udp6NoPorts');
    fs.rmSync(path.join(tree.proc, 'net', 'snmp6'));
    const v4only = await collect(createSnmpSource(), context(tree, { statistics: 'all' }));
    expect(v4only.udpConnectionStats!.map((s) => s.labels[LABEL.statisticName])).not.toContain('Udp6NoPorts');
    expect(v4only.tcpConnectionStats!.length).toBeGreaterThan(100);
  });
});

/**
 * A node whose /proc/net/dev, default route and ifindexes a test rewrites between gatherings, as the kernel changes
 * them: one interface per line of `dev` with rx bytes, rx packets, tx bytes, tx packets.
 */
function changingNode() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-net-'));
  roots.push(root);
  const proc = path.join(root, 'proc');
  const sys = path.join(root, 'sys');
  fs.mkdirSync(path.join(proc, 'net'), { recursive: true });
  const header = fs
    .readFileSync(path.join(FIXTURES, 'linux', 'net', 'nov6', 'dev'), 'latin1')
    .split('\n')
    .slice(0, 2);
  const routeHeader = fs.readFileSync(path.join(FIXTURES, 'linux', 'net', 'nov6', 'route'), 'latin1').split('\n')[0];
  return {
    ctx: context({ proc, sys }),
    /** Interfaces as name -> [ifindex, rx bytes, rx packets, tx bytes, tx packets]; `defaultVia` holds the default route. */
    set(interfaces: Record<string, [number, number, number, number, number]>, defaultVia?: string) {
      const lines = Object.entries(interfaces).map(
        ([name, [, rxBytes, rxPackets, txBytes, txPackets]]) =>
          `${name}: ${rxBytes} ${rxPackets} 0 0 0 0 0 0 ${txBytes} ${txPackets} 0 0 0 0 0 0`,
      );
      fs.writeFileSync(path.join(proc, 'net', 'dev'), [...header, ...lines, ''].join('\n'));
      const route = defaultVia ? [`${defaultVia}\t00000000\t020812C6\t0003\t0\t0\t0\t00000000\t0\t0\t0`] : [];
      fs.writeFileSync(path.join(proc, 'net', 'route'), [routeHeader, ...route, ''].join('\n'));
      fs.rmSync(sys, { recursive: true, force: true });
      for (const [name, [ifindex]] of Object.entries(interfaces)) {
        fs.mkdirSync(path.join(sys, 'class', 'net', name), { recursive: true });
        fs.writeFileSync(path.join(sys, 'class', 'net', name, 'ifindex'), `${ifindex}\n`);
      }
    },
  };
}

describe('forward and pod totals while members change (a member is its ifindex)', () => {
  const ingress = async (source: Source, ctx: SourceContext) => {
    const samples = await collect(source, ctx);
    const of = (list: readonly SampleView[] | undefined) =>
      list?.find((s) => s.labels[LABEL.direction] === DIRECTION.ingress)?.value;
    return { bytes: of(samples.forwardBytes), packets: of(samples.forwardCount) };
  };

  it('the default route leaving for one gathering and coming back changes nothing', async () => {
    const node = changingNode();
    const forward = createForwardSource();
    node.set({ lo: [1, 0, 0, 0, 0], eth0: [2, 1000, 10, 0, 0] }, 'eth0');
    expect((await ingress(forward, node.ctx)).bytes).toBe(1000);
    node.set({ lo: [1, 0, 0, 0, 0], eth0: [2, 1000, 10, 0, 0] });
    expect((await ingress(forward, node.ctx)).bytes).toBeUndefined();
    node.set({ lo: [1, 0, 0, 0, 0], eth0: [2, 1000, 10, 0, 0] }, 'eth0');
    // Keyed by name and forgotten while absent, eth0's lifetime was added again: 2000.
    expect((await ingress(forward, node.ctx)).bytes).toBe(1000);
  });

  it('the default route moving to a second uplink and back counts each uplink once', async () => {
    const node = changingNode();
    const forward = createForwardSource();
    node.set({ eth0: [2, 1000, 10, 0, 0], eth1: [3, 300, 3, 0, 0] }, 'eth0');
    expect((await ingress(forward, node.ctx)).bytes).toBe(1000);
    node.set({ eth0: [2, 1000, 10, 0, 0], eth1: [3, 300, 3, 0, 0] }, 'eth1');
    expect((await ingress(forward, node.ctx)).bytes).toBe(1300);
    node.set({ eth0: [2, 1050, 11, 0, 0], eth1: [3, 300, 3, 0, 0] }, 'eth0');
    expect((await ingress(forward, node.ctx)).bytes).toBe(1350);
  });

  it('renaming the uplink adds only its growth', async () => {
    const node = changingNode();
    const forward = createForwardSource();
    node.set({ eth0: [2, 90_000, 702, 0, 0] }, 'eth0');
    expect((await ingress(forward, node.ctx)).packets).toBe(702);
    node.set({ wan0: [2, 90_100, 703, 0, 0] }, 'wan0');
    // Keyed by name, each rename added the uplink's 702 packets again.
    expect((await ingress(forward, node.ctx)).packets).toBe(703);
    node.set({ eth0: [2, 90_100, 703, 0, 0] }, 'eth0');
    expect((await ingress(forward, node.ctx)).packets).toBe(703);
  });

  it('a new uplink under an old name (a new ifindex) counts whole, once', async () => {
    const node = changingNode();
    const forward = createForwardSource();
    node.set({ eth0: [2, 1000, 10, 0, 0] }, 'eth0');
    await ingress(forward, node.ctx);
    node.set({ eth0: [9, 1200, 12, 0, 0] }, 'eth0');
    expect((await ingress(forward, node.ctx)).bytes).toBe(2200);
  });

  it('renaming a pod veth adds only its growth to pod_interfaces', async () => {
    const node = changingNode();
    const netdev = createNetdevSource();
    const podTx = async () =>
      (await collect(netdev, node.ctx)).interfaceStats?.find(
        (s) =>
          s.labels[LABEL.interfaceName] === POD_INTERFACES_AGGREGATE && s.labels[LABEL.statisticName] === 'tx_packets',
      )?.value;
    node.set({ eth0: [2, 0, 0, 0, 0], veth1a: [5, 0, 0, 0, 43] });
    expect(await podTx()).toBe(43);
    node.set({ eth0: [2, 0, 0, 0, 0], veth2b: [5, 0, 0, 0, 44] });
    expect(await podTx()).toBe(44);
  });
});
