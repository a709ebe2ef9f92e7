import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHostFs } from '../../../src/kernel/host-fs';
import { interfacePath } from '../../../src/kernel/interface-name';

const roots: string[] = [];
afterAll(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));

/** proc, sys and tracefs trees holding the given files (paths relative to the tree root). */
function trees(files: Record<'proc' | 'sys' | 'tracefs', Record<string, string | Buffer>>) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-hostfs-'));
  roots.push(root);
  for (const [tree, entries] of Object.entries(files)) {
    fs.mkdirSync(path.join(root, tree), { recursive: true });
    for (const [file, content] of Object.entries(entries)) {
      fs.mkdirSync(path.dirname(path.join(root, tree, file)), { recursive: true });
      fs.writeFileSync(path.join(root, tree, file), content);
    }
  }
  return createHostFs({
    procPath: path.join(root, 'proc'),
    sysPath: path.join(root, 'sys'),
    tracefsPath: path.join(root, 'tracefs'),
  });
}

describe('HostFs', () => {
  it('reads procfs text, bytes, and says undefined only for a missing file', () => {
    const hostFs = trees({ proc: { 'net/dev': 'a\nb\n', 'net/tcp': Buffer.from([0x41, 0xff]) }, sys: {}, tracefs: {} });
    expect(hostFs.readProc('net/dev')).toBe('a\nb\n');
    expect(hostFs.readProcIfExists('net/snmp6')).toBeUndefined();
    expect(hostFs.readProc('net/tcp')).toBe('A\ufffd'); // UTF-8: a byte that is not valid UTF-8 never throws
    expect(hostFs.readProcBytes('net/tcp')).toEqual(Buffer.from([0x41, 0xff]));
    expect(hostFs.readProcBytesIfExists('net/tcp6')).toBeUndefined();
    expect(() => hostFs.readProc('net/route')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => hostFs.readProcIfExists('net')).toThrow(expect.objectContaining({ code: 'EISDIR' }));
  });

  it('reads files far larger than its buffer whole, and small ones after them, as copies the caller keeps', () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'x');
    big.write('end', big.length - 3);
    const hostFs = trees({ proc: { 'net/tcp': big, 'net/dev': 'small\n' }, sys: {}, tracefs: {} });
    const first = hostFs.readProcBytes('net/tcp');
    expect(first.equals(big)).toBe(true);
    expect(hostFs.readProc('net/dev')).toBe('small\n');
    const again = hostFs.readProcBytes('net/dev');
    again.write('S');
    expect(first.equals(big)).toBe(true);
    expect(hostFs.readProc('net/dev')).toBe('small\n');
  });

  it('keeps its read buffer per instance: two HostFs read alternately never see each other’s bytes', () => {
    const a = trees({ proc: { f: 'aaaa\n' }, sys: {}, tracefs: {} });
    const b = trees({ proc: { f: 'bb\n' }, sys: {}, tracefs: {} });
    const bytesA = a.readProcBytes('f');
    expect([b.readProc('f'), a.readProc('f'), b.readProc('f')]).toEqual(['bb\n', 'aaaa\n', 'bb\n']);
    expect(bytesA.toString()).toBe('aaaa\n');
  });

  it('reads sysfs under the sys root', () => {
    const hostFs = trees({ proc: {}, sys: { 'class/net/eth0/statistics/rx_crc_errors': '3\n' }, tracefs: {} });
    expect(hostFs.readSys('class/net/eth0/statistics/rx_crc_errors')).toBe('3\n');
  });

  it('decodes interface names as UTF-8, so a name from net/dev names its sysfs directory', () => {
    const hostFs = trees({
      proc: { 'net/dev': 'nét0: 1\n' },
      sys: { 'class/net/nét0/statistics/rx_crc_errors': '4\n' },
      tracefs: {},
    });
    const name = hostFs.readProc('net/dev').split(':')[0]!;
    expect(name).toBe('nét0');
    expect(hostFs.listSys('class/net')).toEqual([name]);
    expect(hostFs.readSys(`class/net/${name}/statistics/rx_crc_errors`)).toBe('4\n');
  });

  it('lists sysfs entries as interface labels and reads a path given as bytes (names that are not UTF-8)', () => {
    const hostFs = trees({ proc: {}, sys: { 'class/net/eth0/ifindex': '2\n' }, tracefs: {} });
    const netDirectory = path.join(hostFs.sysPath, 'class', 'net');
    for (const [name, ifindex] of [
      [[0x74, 0x36, 0xff, 0xfe], 7],
      [[0x74, 0x36, 0xfe, 0xff], 8],
      [[...Buffer.from('t6\\xff\\xfe', 'latin1')], 9],
    ] as const) {
      const directory = Buffer.concat([Buffer.from(`${netDirectory}/`), Buffer.from(name)]);
      fs.mkdirSync(directory);
      fs.writeFileSync(Buffer.concat([directory, Buffer.from('/ifindex')]), `${ifindex}\n`);
    }
    const labels = hostFs.listSys('class/net').sort();
    expect(labels).toEqual(['eth0', 't6\\\\xff\\\\xfe', 't6\\xfe\\xff', 't6\\xff\\xfe']);
    expect(labels.map((label) => hostFs.readSys(interfacePath('class/net/', label, '/ifindex')))).toEqual([
      '2\n',
      '9\n',
      '8\n',
      '7\n',
    ]);
  });

  it('knows a live procfs from a directory of copies', () => {
    expect(trees({ proc: {}, sys: {}, tracefs: {} }).procIsLive()).toBe(false);
    expect(createHostFs({ procPath: '/proc', sysPath: '/sys', tracefsPath: '/sys/kernel/tracing' }).procIsLive()).toBe(
      true,
    );
  });

  describe('descriptors kept open between reads', () => {
    /** This process's descriptors whose target ends with `suffix`, by number. */
    const descriptorsOf = (suffix: string) =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith(suffix);
        } catch {
          return false; // the descriptor readdir itself used, closed by now
        }
      });

    it('keeps one descriptor per net/ file of the live /proc, reused at every read, closed by close()', () => {
      const hostFs = createHostFs({ procPath: '/proc', sysPath: '/sys', tracefsPath: '/sys/kernel/tracing' });
      const before = descriptorsOf('/net/dev');
      expect(hostFs.readProc('net/dev')).toMatch(/^Inter-\|/);
      const kept = descriptorsOf('/net/dev').filter((fd) => !before.includes(fd));
      expect(kept).toHaveLength(1);
      expect(hostFs.readProc('net/dev')).toMatch(/^Inter-\|/);
      expect(hostFs.readProcBytes('net/dev').toString()).toMatch(/^Inter-\|/);
      expect(descriptorsOf('/net/dev').filter((fd) => !before.includes(fd))).toEqual(kept);
      expect(hostFs.readProcIfExists('net/no-such-file')).toBeUndefined();
      expect(() => hostFs.readProc('net/no-such-file')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      hostFs.close();
      expect(descriptorsOf('/net/dev').filter((fd) => !before.includes(fd))).toEqual([]);
      expect(hostFs.readProc('net/dev')).toMatch(/^Inter-\|/); // after close: opened again
      hostFs.close();
    });

    it('keeps none for another process’s /proc/<pid> or for files outside net/', () => {
      const other = createHostFs({ procPath: `/proc/${process.pid}`, sysPath: '/sys', tracefsPath: '/' });
      const before = descriptorsOf('/net/snmp');
      expect(other.readProc('net/snmp')).toMatch(/^Ip: /);
      expect(descriptorsOf('/net/snmp')).toEqual(before);
      const live = createHostFs({ procPath: '/proc', sysPath: '/sys', tracefsPath: '/sys/kernel/tracing' });
      expect(live.readProc('sys/net/core/somaxconn')).toMatch(/^\d+\n$/);
      expect(descriptorsOf('/somaxconn')).toEqual([]);
    });

    it('reads a directory of copies anew at every read: rewritten in place, replaced by rename, removed', () => {
      const hostFs = trees({ proc: { 'net/snmp': 'Udp: NoPorts\nUdp: 1\n' }, sys: {}, tracefs: {} });
      const file = path.join(hostFs.procPath, 'net/snmp');
      expect(hostFs.readProc('net/snmp')).toBe('Udp: NoPorts\nUdp: 1\n');
      expect(descriptorsOf(file)).toEqual([]);
      fs.writeFileSync(file, 'Udp: NoPorts\nUdp: 22\n');
      expect(hostFs.readProc('net/snmp')).toBe('Udp: NoPorts\nUdp: 22\n');
      fs.writeFileSync(`${file}.new`, 'Udp: NoPorts\nUdp: 333\n');
      fs.renameSync(`${file}.new`, file);
      expect(hostFs.readProc('net/snmp')).toBe('Udp: NoPorts\nUdp: 333\n');
      fs.rmSync(file);
      expect(hostFs.readProcIfExists('net/snmp')).toBeUndefined();
    });
  });
});
