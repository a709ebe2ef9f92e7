/**
 * Reading a tracefs `per_cpu/cpuN/trace_pipe_raw` without blocking the event loop: opened O_NONBLOCK, each read
 * returns one whole ring-buffer page of that CPU (ring-buffer-page.ts decodes it), or EAGAIN when the CPU's buffer is
 * empty. Reading consumes: each event is read once. Unlike `trace_pipe`, the kernel formats nothing: the page is
 * copied out as the ring buffer stores it.
 */
import * as fs from 'node:fs';
import { createReadNow } from '../read-now';

/** The reader side of one CPU's `trace_pipe_raw`. */
export interface RawPipe {
  /**
   * Reads the next page into `buffer` (at least one page long: 4 KiB, or the instance's buffer_subbuf_size_kb) and
   * returns its length, or 0 when the CPU's buffer holds nothing now. Throws read errors other than EAGAIN.
   */
  readPage(buffer: Buffer): number;
  /** Closes the file; later reads return 0. Safe to call twice. */
  close(): void;
}

/** A trace_pipe_raw opened non-blocking on the file system (`file` is an absolute path). */
export class NonBlockingRawPipe implements RawPipe {
  private fd: number | undefined;
  /** Empty pipes are the usual case (every CPU, every poll): read-now.ts reads them without an exception. */
  private readonly readNow = createReadNow();

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  }

  readPage(buffer: Buffer): number {
    if (this.fd === undefined) return 0;
    return this.readNow(this.fd, buffer);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
