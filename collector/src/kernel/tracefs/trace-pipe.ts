/**
 * Reading a tracefs `trace_pipe` without ever blocking the event loop: the file is opened O_NONBLOCK, so a read
 * returns what the ring buffer holds now, or EAGAIN when it is empty. Reading consumes: each event is read once.
 */
import * as fs from 'node:fs';
import { createReadNow } from '../read-now';

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
  /** The bytes of a partial last line, carried to the next read. */
  private rest: Buffer = Buffer.alloc(0);
  private readonly buffer = Buffer.allocUnsafe(1 << 20);
  /** An empty pipe is the usual case at every poll: read-now.ts reads it without an exception. */
  private readonly readNow = createReadNow();

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  }

  /*
   * Each line is decoded from the bytes on its own. Splitting one decoded chunk would hand out slices that keep the
   * whole chunk (up to 1 MiB per read) alive for as long as any of them is kept: the decoder's cache and the tally
   * keep reason and location strings for the collector's lifetime, so every chunk that first named a location
   * would stay in the heap (seen as 1.1 and 1.4 MiB strings in a heap snapshot under another session's drop storm).
   */
  readLines(maxBytes: number): string[] {
    if (this.fd === undefined) return [];
    const lines: string[] = [];
    let total = 0;
    while (total < maxBytes) {
      const n = this.readNow(this.fd, this.buffer);
      if (n === 0) break;
      total += n;
      const chunk = this.buffer.subarray(0, n);
      let start = 0;
      let newline = chunk.indexOf(10, 0);
      if (this.rest.length > 0 && newline >= 0) {
        lines.push(Buffer.concat([this.rest, chunk.subarray(0, newline)]).toString('latin1'));
        this.rest = Buffer.alloc(0);
        start = newline + 1;
        newline = chunk.indexOf(10, start);
      }
      while (newline >= 0) {
        lines.push(chunk.toString('latin1', start, newline));
        start = newline + 1;
        newline = chunk.indexOf(10, start);
      }
      if (start < n) this.rest = Buffer.concat([this.rest, chunk.subarray(start)]);
    }
    return lines;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
