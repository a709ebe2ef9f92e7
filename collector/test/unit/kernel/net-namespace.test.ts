import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { netNamespaceFile, showsOwnNamespace } from '../../../src/kernel/net-namespace';

describe('showsOwnNamespace', () => {
  it("is true for the live procfs, whose net follows the reader's self", () => {
    expect(showsOwnNamespace('/proc')).toBe(true);
    // The answer netlink relies on: the same namespace file as the thread's own.
    expect(fs.statSync(netNamespaceFile('/proc')).ino).toBe(fs.statSync('/proc/thread-self/ns/net').ino);
  });

  it("is false for one process's view, a directory of copies and a missing path", () => {
    expect(showsOwnNamespace(`/proc/${process.pid}`)).toBe(false);
    const copies = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-ns-'));
    try {
      fs.mkdirSync(path.join(copies, 'net'));
      expect(showsOwnNamespace(copies)).toBe(false);
      fs.rmdirSync(path.join(copies, 'net'));
      fs.symlinkSync('self/net', path.join(copies, 'net'));
      // A link of the same text outside a procfs: not the kernel's.
      expect(showsOwnNamespace(copies)).toBe(false);
    } finally {
      fs.rmSync(copies, { recursive: true, force: true });
    }
    expect(showsOwnNamespace('/nonexistent-kappie-proc')).toBe(false);
  });
});
