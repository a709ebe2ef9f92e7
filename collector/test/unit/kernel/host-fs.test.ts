import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHostFs } from '../../../src/kernel/host-fs';

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

  it('knows a live procfs from a directory of copies', () => {
    expect(trees({ proc: {}, sys: {}, tracefs: {} }).procIsLive()).toBe(false);
    expect(createHostFs({ procPath: '/proc', sysPath: '/sys', tracefsPath: '/sys/kernel/tracing' }).procIsLive()).toBe(
      true,
    );
  });
});
