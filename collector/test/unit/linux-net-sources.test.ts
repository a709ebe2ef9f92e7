/**
 * The netdev, forward and snmp sources' reading side, on recorded files laid out as a proc and a sys tree (the real
 * file layout --proc-path and --sys-path point at).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { LABEL, POD_INTERFACES_AGGREGATE } from '../../src/catalog';
import { resolveConfig } from '../../src/config';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger } from '../../src/log';
import type { Source, SourceContext } from '../../src/source';
import { createForwardSource } from '../../src/sources/linux/forward';
import { createNetdevSource } from '../../src/sources/linux/netdev';
import { createSnmpSource } from '../../src/sources/linux/snmp';
import { FIXTURES } from '../helpers/fixtures';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

/** A proc tree holding the recorded net/ files of `host`, and a sys tree with the given statistics files. */
function hostTree(host: string, sysStatistics: Record<string, Record<string, string>> = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-net-'));
  roots.push(root);
  fs.mkdirSync(path.join(root, 'proc', 'net'), { recursive: true });
  for (const file of fs.readdirSync(path.join(FIXTURES, 'linux', 'net', host))) {
    fs.copyFileSync(path.join(FIXTURES, 'linux', 'net', host, file), path.join(root, 'proc', 'net', file));
  }
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
