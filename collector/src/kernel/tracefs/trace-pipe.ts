/**
 * Reading a tracefs `trace_pipe` without ever blocking the event loop: the file is opened O_NONBLOCK, so a read
 * returns what the ring buffer holds now, or EAGAIN when it is empty. Reading consumes: each event is read once.
 */
import * as fs from 'node:fs';

/** The reader side of a `trace_pipe`. */
export interface TracePipe {
  /**
   * Complete lines read now (at most about `maxBytes` of text, so a storm cannot hold the caller), without their
   * newlines. A partial last line is kept for the next call. Throws read errors other than EAGAIN.
   */
  readLines(maxBytes: number): string[];
  /** Closes the file; later reads return nothing. Safe to call twice. */
  close(): void;
}

/** A trace_pipe opened non-blocking on the file system (`file` is an absolute path). */
export class NonBlockingPipe implements TracePipe {
  private fd: number | undefined;
  private rest = '';
  private readonly buffer = Buffer.allocUnsafe(1 << 20);

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  }

  readLines(maxBytes: number): string[] {
    if (this.fd === undefined) return [];
    let text = this.rest;
    let total = 0;
    while (total < maxBytes) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buffer, 0, this.buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw error;
      }
      if (n === 0) break;
      total += n;
      text += this.buffer.toString('latin1', 0, n);
    }
    const end = text.lastIndexOf('\n');
    this.rest = text.slice(end + 1);
    return end < 0 ? [] : text.slice(0, end).split('\n');
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
