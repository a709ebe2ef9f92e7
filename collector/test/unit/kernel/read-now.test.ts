/**
 * read-now.ts on a real FIFO opened non-blocking (what a tracefs pipe is to a reader): nothing there is 0 without an
 * exception, bytes are returned as read, a closed writer is 0 too, and a real failure names its errno.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createReadNow } from '../../../src/kernel/read-now';

describe('createReadNow', () => {
  let dir: string;
  let fifo: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-read-now-'));
    fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives 0 for an empty pipe without going through a thrown EAGAIN, then the bytes written', () => {
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const writer = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    const readSync = jest.spyOn(fs, 'readSync');
    const readNow = createReadNow();
    const buffer = Buffer.alloc(16);
    try {
      for (let i = 0; i < 100; i++) expect(readNow(reader, buffer)).toBe(0);
      fs.writeSync(writer, 'drops');
      expect(readNow(reader, buffer)).toBe(5);
      expect(buffer.toString('latin1', 0, 5)).toBe('drops');
      expect(readNow(reader, buffer)).toBe(0);
      fs.closeSync(writer);
      expect(readNow(reader, buffer)).toBe(0); // end of file: no writer left
      expect(readSync).not.toHaveBeenCalled();
    } finally {
      fs.closeSync(reader);
    }
  });

  it('throws for a failed read, naming the error', () => {
    const readNow = createReadNow();
    const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    fs.closeSync(fd);
    expect(() => readNow(fd, Buffer.alloc(16))).toThrow(/EBADF \(errno 9\)/);
  });
});
