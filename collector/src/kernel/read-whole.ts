/**
 * Reading a whole file into a reusable buffer with one synchronous read loop. procfs, sysfs and tracefs files report
 * size 0, so stat cannot size the buffer: it doubles while the file is larger than it.
 */
import * as fs from 'node:fs';

/** What readWhole read: the buffer holding it (the one given, or a larger copy) and the file's length in bytes. */
export interface WholeRead {
  readonly buffer: Buffer<ArrayBuffer>;
  readonly length: number;
}

/**
 * All of `fd` into `buffer`: from the descriptor's current position (a new descriptor), or with `fromStart` by
 * positioned reads from offset 0 (a descriptor kept open: a read from offset 0 makes seq_file and tracefs files build
 * their text again). Throws the read's error.
 */
export function readWhole(fd: number, buffer: Buffer<ArrayBuffer>, fromStart: boolean): WholeRead {
  let into = buffer;
  let filled = 0;
  for (;;) {
    if (filled === into.length) {
      const larger = Buffer.allocUnsafe(into.length * 2);
      into.copy(larger, 0, 0, filled);
      into = larger;
    }
    const count = fs.readSync(fd, into, filled, into.length - filled, fromStart ? filled : null);
    if (count === 0) return { buffer: into, length: filled };
    filled += count;
  }
}

/**
 * All of `fd` (kept open) as one generation of its text: positioned reads from offset 0 only, the buffer doubled and
 * the read made again while the text fills it. For files the kernel builds anew at every read call whatever the
 * offset (tracefs' per-CPU `stats`, control files): readWhole's second read, at the end of the first, would build the
 * text again and return its tail when the text grew in between (a counter gaining a digit), appending stray bytes.
 * Throws the read's error.
 */
export function readOneGeneration(fd: number, buffer: Buffer<ArrayBuffer>): WholeRead {
  let into = buffer;
  for (;;) {
    const count = fs.readSync(fd, into, 0, into.length, 0);
    if (count < into.length) return { buffer: into, length: count };
    into = Buffer.allocUnsafe(into.length * 2);
  }
}
