/**
 * Strict parsing, fine-grained failure (issue 9): a kernel file cut at a line boundary must not leave a source up
 * with counters silently missing, and one bad optional sysfs value must not take every interface down.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LABEL } from '../../src/catalog';
import { resolveConfig } from '../../src/config';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger } from '../../src/log';
import { Gatherer } from '../../src/gatherer';
import type { Source, SourceContext } from '../../src/source';
import { createNetdevSource } from '../../src/sources/linux/netdev';
import { createSnmpSource } from '../../src/sources/linux/snmp';
import { createSockstatSource } from '../../src/sources/linux/sockstat';
import { FIXTURES } from '../helpers/fixtures';

const roots: string[] = [];
afterAll(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));

function tree(replace: Record<string, string> = {}, sys: Record<string, string> = {}): SourceContext {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-strict-'));
  roots.push(root);
  fs.mkdirSync(path.join(root, 'proc', 'net'), { recursive: true });
  for (const file of fs.readdirSync(path.join(FIXTURES, 'linux', 'net', 'veth'))) {
    fs.copyFileSync(path.join(FIXTURES, 'linux', 'net', 'veth', file), path.join(root, 'proc', 'net', file));
  }
  for (const [file, text] of Object.entries(replace)) fs.writeFileSync(path.join(root, 'proc', file), text);
  for (const [file, text] of Object.entries(sys)) {
    fs.mkdirSync(path.dirname(path.join(root, 'sys', file)), { recursive: true });
    fs.writeFileSync(path.join(root, 'sys', file), text);
  }
  const config = resolveConfig({ procPath: path.join(root, 'proc'), sysPath: path.join(root, 'sys') }, {});
  return { config, fs: createHostFs(config), log: silentLogger() };
}

/** The source's status after one gathering: up or down, and the reason (or note). */
async function statusOf(source: Source, ctx: SourceContext) {
  const gatherer = new Gatherer([source], ctx);
  try {
    const { sources } = await gatherer.gather();
    return { up: sources[0]!.up, reason: sources[0]!.reason };
  } finally {
    await gatherer.stop();
  }
}

const recorded = (file: string) => fs.readFileSync(path.join(FIXTURES, 'linux', 'net', 'veth', file), 'latin1');
/** The first `pairs` header/value line pairs of a recorded snmp-style file (a cut at a line boundary). */
const firstPairs = (file: string, pairs: number) =>
  recorded(file)
    .split('\n')
    .slice(0, pairs * 2)
    .map((line) => `${line}\n`)
    .join('');

describe('a kernel file missing parts it always has takes its source down, not silently fewer counters', () => {
  it.each([
    ['an empty net/snmp', { 'net/snmp': '' }, /^net\/snmp: no Ip, Icmp, Tcp, Udp section/],
    ['net/snmp cut after IcmpMsg', { 'net/snmp': firstPairs('snmp', 3) }, /^net\/snmp: no Tcp, Udp section/],
    ['an empty net/netstat', { 'net/netstat': '' }, /^net\/netstat: no TcpExt, IpExt section/],
    ['net/netstat cut after TcpExt', { 'net/netstat': firstPairs('netstat', 1) }, /^net\/netstat: no IpExt section/],
    ['an empty net/snmp6', { 'net/snmp6': '' }, /^net\/snmp6: no Ip6, Icmp6, Udp6 counters/],
  ])('snmp: %s', async (_, files, reason) => {
    expect(await statusOf(createSnmpSource(), tree(files))).toEqual({
      up: false,
      reason: expect.stringMatching(reason),
    });
  });

  it.each([
    ['an empty net/sockstat6', { 'net/sockstat6': '' }, /^net\/sockstat6: no TCP6, UDP6 inuse line/],
    [
      'net/sockstat cut after TCP',
      { 'net/sockstat': 'sockets: used 3\nTCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0\n' },
      /^net\/sockstat: no UDP inuse line/,
    ],
  ])('sockstat: %s', async (_, files, reason) => {
    const sockstat = {
      'net/sockstat': 'sockets: used 3\nTCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0\nUDP: inuse 2 mem 0\n',
      'net/sockstat6': 'TCP6: inuse 0\nUDP6: inuse 5\n',
    };
    expect(await statusOf(createSockstatSource(), tree(sockstat))).toEqual({ up: true, reason: undefined });
    expect(await statusOf(createSockstatSource(), tree({ ...sockstat, ...files }))).toEqual({
      up: false,
      reason: expect.stringMatching(reason),
    });
  });
});

describe('netdev source: a bad optional sysfs value is skipped and noted, the other values stay', () => {
  it('exports every interface and the good extras, and names the bad file in the note', async () => {
    const source = createNetdevSource();
    const ctx = tree(
      {},
      {
        'class/net/eth0/statistics/rx_missed_errors': '5\n',
        'class/net/eth0/statistics/rx_crc_errors': 'garbage\n',
        'class/net/lo/statistics/rx_nohandler': '7\n',
      },
    );
    const samples = (await source.collect(ctx)).interfaceStats!;
    const of = (name: string, statistic: string) =>
      samples.find((s) => s.labels[LABEL.interfaceName] === name && s.labels[LABEL.statisticName] === statistic)?.value;
    expect(of('eth0', 'rx_bytes')).toBe(996);
    expect(of('eth0', 'rx_missed_errors')).toBe(5);
    expect(of('eth0', 'rx_crc_errors')).toBeUndefined();
    expect(of('lo', 'rx_nohandler')).toBe(7);
    expect(source.note?.()).toMatch(/class\/net\/eth0\/statistics\/rx_crc_errors.*expected a non-negative integer/);
    // Through a gatherer: up, with the note as the status reason.
    expect(await statusOf(createNetdevSource(), ctx)).toEqual({
      up: true,
      reason: expect.stringMatching(
        /^skipped 1 unreadable sysfs value\(s\): class\/net\/eth0\/statistics\/rx_crc_errors:1:/,
      ),
    });
    // Fixed on the next gathering: the note goes away.
    fs.writeFileSync(path.join(ctx.config.sysPath, 'class/net/eth0/statistics/rx_crc_errors'), '3\n');
    const again = (await source.collect(ctx)).interfaceStats!;
    expect(again.find((s) => s.labels[LABEL.statisticName] === 'rx_crc_errors')?.value).toBe(3);
    expect(source.note?.()).toBeUndefined();
  });
});
