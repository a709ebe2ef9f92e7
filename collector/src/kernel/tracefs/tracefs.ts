/**
 * The one door to tracefs. Every read, write, directory and pipe the drop source uses goes through a `Tracefs` rooted
 * at the mount (--tracefs-path), with paths relative to it (`instances/kappie/events/skb/kfree_skb/hist`). The real
 * one (`createTracefs`) is node:fs on the mount; unit tests give the same code a directory of recorded tracefs files.
 *
 * tracefs files are commands, not data: a write is a request the kernel may refuse (EINVAL for a bad filter or
 * trigger), appending to `trigger` or `kprobe_events` adds an entry without touching the others (a leading `!` or
 * `-:` removes one), `mkdir instances/NAME` creates a whole ring buffer with its own event switches, and `rmdir`
 * tears it down (EBUSY while a reader holds it open).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SourceUnavailableError } from '../../errors';
import { readOneGeneration } from '../read-whole';
import { NonBlockingPipe, type TracePipe } from './trace-pipe';
import { NonBlockingRawPipe, type RawPipe } from './trace-pipe-raw';

/** How a control file is written: `replace` is `echo x > file`, `append` is `echo x >> file`. */
export type WriteMode = 'replace' | 'append';

/** What `rmdir` did: `busy` when the kernel refused because the directory is in use (EBUSY). */
export type RemoveDirResult = 'removed' | 'absent' | 'busy' | 'failed';

export interface Tracefs {
  /** The mount point, absolute. */
  readonly root: string;
  /** The absolute path of a file under the mount, for messages. */
  pathOf(relativePath: string): string;
  exists(relativePath: string): boolean;
  /** The whole text of a file (Latin-1: tracefs is ASCII). Throws the file system error (ENOENT, EACCES). */
  read(relativePath: string): string;
  /** The names in a directory. */
  list(relativePath: string): string[];
  /**
   * Writes a control file. The kernel's refusal throws a SourceUnavailableError naming the file, the text and the
   * errno (EINVAL: a filter or trigger this kernel does not accept).
   */
  write(relativePath: string, text: string, mode?: WriteMode): void;
  /** mkdir; under `instances/` the kernel creates a new ring buffer with its own `events/`, `per_cpu/`, ... */
  makeDir(relativePath: string): void;
  removeDir(relativePath: string): RemoveDirResult;
  /** Opens a `trace_pipe` for non-blocking reads. */
  openPipe(relativePath: string): TracePipe;
  /** Opens one CPU's `trace_pipe_raw` for non-blocking reads of whole ring-buffer pages. */
  openRawPipe(relativePath: string): RawPipe;
  /**
   * Opens a file read again and again (an instance's control files and per-CPU `stats`, read at every gathering):
   * one descriptor for its life instead of an open, fstat and close per read. Throws the file system error. Close it
   * before removing its instance: an open file keeps the instance busy (rmdir says EBUSY).
   */
  openKept(relativePath: string): KeptFile;
}

/** A tracefs file kept open (Tracefs.openKept). */
export interface KeptFile {
  /**
   * The whole text now (Latin-1), by positioned reads from offset 0: tracefs control and stats files build their text
   * again at each read from 0. Throws the file system error.
   */
  read(): string;
  close(): void;
}

/**
 * Opens each of `relativePaths` (Tracefs.openKept), in order. A failed open closes the files opened before it (they
 * would keep their instance busy) and throws its error.
 */
export function openKeptFiles(tracefs: Tracefs, relativePaths: readonly string[]): KeptFile[] {
  const files: KeptFile[] = [];
  try {
    for (const relativePath of relativePaths) files.push(tracefs.openKept(relativePath));
  } catch (error) {
    for (const file of files) file.close();
    throw error;
  }
  return files;
}

/** Control and stats files are a few hundred bytes; the buffer doubles for a longer one (a long filter). */
const KEPT_FILE_BUFFER_BYTES = 1024;

function openKeptFile(filePath: string): KeptFile {
  const fd = fs.openSync(filePath, 'r');
  let buffer = Buffer.allocUnsafe(KEPT_FILE_BUFFER_BYTES);
  return {
    read() {
      const read = readOneGeneration(fd, buffer);
      buffer = read.buffer;
      return buffer.toString('latin1', 0, read.length);
    },
    close: () => fs.closeSync(fd),
  };
}

/** Writes a control file, reporting a refusal as false instead of throwing (for optional or best-effort steps). */
export function tryWrite(tracefs: Tracefs, relativePath: string, text: string, mode: WriteMode = 'replace'): boolean {
  try {
    tracefs.write(relativePath, text, mode);
    return true;
  } catch {
    return false;
  }
}

/** The tracefs mounted at `root` (absolute), through node:fs. */
export function createTracefs(root: string): Tracefs {
  const pathOf = (relativePath: string) => path.join(root, relativePath);
  return {
    root,
    pathOf,
    exists: (relativePath) => fs.existsSync(pathOf(relativePath)),
    read: (relativePath) => fs.readFileSync(pathOf(relativePath), 'latin1'),
    list: (relativePath) => fs.readdirSync(pathOf(relativePath)),
    write(relativePath, text, mode = 'replace') {
      try {
        fs.writeFileSync(pathOf(relativePath), text, { flag: mode === 'append' ? 'a' : 'w' });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        throw new SourceUnavailableError(`writing ${JSON.stringify(text)} to ${pathOf(relativePath)} failed: ${code}`);
      }
    },
    makeDir: (relativePath) => fs.mkdirSync(pathOf(relativePath)),
    removeDir(relativePath) {
      try {
        fs.rmdirSync(pathOf(relativePath));
        return 'removed';
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EBUSY') return 'busy';
        if (code === 'ENOENT') return 'absent';
        return 'failed';
      }
    },
    openPipe: (relativePath) => new NonBlockingPipe(pathOf(relativePath)),
    openRawPipe: (relativePath) => new NonBlockingRawPipe(pathOf(relativePath)),
    openKept: (relativePath) => openKeptFile(pathOf(relativePath)),
  };
}
