/**
 * Gives back the pages of the node binary and of the shared libraries that only starting up touched.
 *
 * Starting Node.js touches about 34 MiB of `/usr/bin/node` (measured with Node.js 20.20 on x86_64: the dynamic
 * symbol table and relocations the loader walks, V8's startup snapshot, the bootstrap's builtins, each with the
 * kernel's fault-around of 16 pages per fault), and those pages stay mapped, so counted in the process's RSS, for as
 * long as it runs, although a scrape uses well under half of them. `madvise(MADV_DONTNEED)` on a private, read-only
 * file mapping drops the process's page table entries only: the contents stay in the page cache (clean, shared with
 * every other process of that file, reclaimable) and a page touched again is mapped again by a minor fault, from
 * the same file. Called once the collector has started, RSS is then what the scrapes actually use (bench/RESULTS.md:
 * about 20 MiB less with every Linux source).
 *
 * Only mappings whose every page is still the file's are released: a private mapping with copy-on-write pages
 * (`Anonymous` or `Swap` above 0 in smaps: relocated data such as RELRO, even when read-only now) would lose what was
 * written there, so it is left alone, as are writable, shared, locked and anonymous mappings.
 */
import * as fs from 'node:fs';
import { ParseError } from '../errors';
import { loadLibc } from './libc';

const SMAPS = '/proc/self/smaps';
/** madvise advice (asm-generic/mman-common.h). */
const MADV_DONTNEED = 4;

/** One mapping of /proc/PID/smaps, with the fields that decide whether its pages can be released. */
export interface Mapping {
  /** First address (inclusive) and end (exclusive). */
  readonly start: bigint;
  readonly end: bigint;
  /** The four permission letters, e.g. `r-xp` (`p` private, `s` shared). */
  readonly permissions: string;
  /** The mapped file's path, a pseudo-name such as `[heap]`, or '' for an anonymous mapping. */
  readonly path: string;
  /** Resident bytes (Rss). */
  readonly residentBytes: number;
  /** Copy-on-write and anonymous bytes, resident (Anonymous) or swapped out (Swap). */
  readonly anonymousBytes: number;
  readonly swapBytes: number;
  readonly lockedBytes: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][ps]) [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+ *(.*)$/;
const FIELD = /^(\w+):\s+(\d+) kB$/;

/**
 * Parses the text of /proc/PID/smaps (proc(5)): a header line per mapping followed by `Name: N kB` fields and a
 * `VmFlags:` line. Throws a ParseError for a field before any header or a header without the fields used here.
 */
export function parseSmaps(text: string): Mapping[] {
  const mappings: Mapping[] = [];
  let header: RegExpExecArray | undefined;
  let fields = new Map<string, number>();
  const finish = (lineNumber: number) => {
    if (!header) return;
    const field = (name: string) => {
      const kB = fields.get(name);
      if (kB === undefined) throw new ParseError(SMAPS, `mapping ${header![1]}: no ${name} field`, lineNumber);
      return kB * 1024;
    };
    mappings.push({
      start: BigInt(`0x${header[1]}`),
      end: BigInt(`0x${header[2]}`),
      permissions: header[3]!,
      path: header[4]!.trim(),
      residentBytes: field('Rss'),
      anonymousBytes: field('Anonymous'),
      swapBytes: field('Swap'),
      lockedBytes: field('Locked'),
    });
  };
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    const next = HEADER.exec(line);
    if (next) {
      finish(index + 1);
      header = next;
      fields = new Map();
      continue;
    }
    const field = FIELD.exec(line);
    if (field) {
      if (!header) throw new ParseError(SMAPS, `field ${field[1]} before any mapping`, index + 1);
      fields.set(field[1]!, Number(field[2]));
    }
  }
  finish(lines.length);
  return mappings;
}

/**
 * The mappings whose resident pages can be dropped without losing anything: private (`p`), not writable, backed by
 * a file (an absolute path), with no copy-on-write page resident or in swap, none locked, and something resident.
 */
export function releasableMappings(mappings: readonly Mapping[]): Mapping[] {
  return mappings.filter(
    (m) =>
      m.permissions[1] === '-' &&
      m.permissions[3] === 'p' &&
      m.path.startsWith('/') &&
      m.anonymousBytes === 0 &&
      m.swapBytes === 0 &&
      m.lockedBytes === 0 &&
      m.residentBytes > 0,
  );
}

/** What releaseStartupPages did. */
export interface StartupPagesRelease {
  /** Mappings released (madvise succeeded). */
  readonly mappings: number;
  /** Bytes those mappings had resident before. */
  readonly bytes: number;
}

/**
 * Drops the resident pages of every releasable mapping of this process (see the file comment). Linux only; throws
 * when /proc/self/smaps cannot be read or koffi cannot load libc (the caller logs it: nothing depends on it).
 * A madvise that fails (a mapping unmapped meanwhile) skips that mapping.
 */
export function releaseStartupPages(): StartupPagesRelease {
  const candidates = releasableMappings(parseSmaps(fs.readFileSync(SMAPS, 'latin1')));
  const madvise = loadLibc().libc.func('int madvise(uintptr_t, size_t, int)');
  let mappings = 0;
  let bytes = 0;
  for (const m of candidates) {
    if (madvise(m.start, m.end - m.start, MADV_DONTNEED) !== 0) continue;
    mappings += 1;
    bytes += m.residentBytes;
  }
  return { mappings, bytes };
}
