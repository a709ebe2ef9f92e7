/**
 * A read of a non-blocking file that may have nothing to give (tracefs pipes opened O_NONBLOCK): the bytes there are
 * now, or 0 when there are none (EAGAIN) or the file ended.
 *
 * Through libc's read(2) (koffi) rather than fs.readSync: Node turns EAGAIN into a thrown ErrnoException, and building
 * it (message, stack trace) costs ~43 us against ~5 us for the call itself (measured on this machine, 2000 empty reads
 * of a trace_pipe_raw with --no-opt). Stream mode reads every CPU's empty pipe ten times a second, so on an idle
 * 64-CPU node the exceptions alone were ~3% of a core. Where koffi cannot load, fs.readSync does the same job.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { loadLibc, type Koffi } from './libc';

const EAGAIN = 11;
const EINTR = 4;

/** Reads up to `buffer.length` bytes of `fd` into `buffer`: the count, or 0 when nothing is there now. */
export type ReadNow = (fd: number, buffer: Buffer) => number;

/**
 * A reader; libc is loaded at its first read and kept by this reader. Throws an Error naming errno for a failed read
 * other than EAGAIN (EINTR is retried).
 */
export function createReadNow(): ReadNow {
  let read: ReadNow | undefined;
  return (fd, buffer) => (read ??= loadRead())(fd, buffer);
}

function loadRead(): ReadNow {
  let koffi: Koffi;
  let read: (fd: number, buffer: Buffer, length: number) => unknown;
  try {
    const loaded = loadLibc();
    koffi = loaded.koffi;
    read = loaded.libc.func('long read(int, void *, size_t)');
  } catch {
    return readSyncNow;
  }
  return (fd, buffer) => {
    for (;;) {
      const count = Number(read(fd, buffer, buffer.length));
      if (count >= 0) return count;
      const errno = koffi.errno();
      if (errno === EAGAIN) return 0;
      if (errno !== EINTR) throw new Error(`read of fd ${fd} failed: ${errnoName(errno)}`);
    }
  };
}

/** The same through Node (EAGAIN arrives as an exception). */
function readSyncNow(fd: number, buffer: Buffer): number {
  try {
    return fs.readSync(fd, buffer, 0, buffer.length, null);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
    throw error;
  }
}

/** `EIO (errno 5)`, or the number alone for one Node does not name. */
function errnoName(errno: number): string {
  const name = Object.entries(os.constants.errno).find(([, value]) => value === errno)?.[0];
  return name === undefined ? `errno ${errno}` : `${name} (errno ${errno})`;
}
