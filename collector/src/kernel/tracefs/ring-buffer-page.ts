/**
 * The binary pages a tracefs ring buffer hands out through `per_cpu/cpuN/trace_pipe_raw`: one read returns one whole
 * sub-buffer page, as the kernel's ring buffer stores it, with no text formatting (kernel/trace/ring_buffer.c; the
 * layout is documented in include/linux/ring_buffer.h and described by the running kernel in `events/header_page`
 * and `events/header_event`).
 *
 * Page: a header (`events/header_page`: u64 `timestamp` at 0, the page's start time in ns of the trace clock; local_t
 * `commit` at 8, the number of bytes of event data; `data` at 16), then the events. The kernel sets two flags in the
 * top bits of the 32-bit commit value when it hands the page to a reader: bit 31 (RB_MISSED_EVENTS) when events were
 * lost before this page, bit 30 (RB_MISSED_STORED) when it also stored how many, as an unsigned long right after the
 * data.
 *
 * Event: a 32-bit header word, `type_len` in its low 5 bits and `time_delta` (ns since the previous event) in the top
 * 27 (`events/header_event`), then:
 *  - type_len 1..28: a data record of type_len * 4 bytes;
 *  - type_len 0: a data record whose length (including this length word) is the next u32, the data after it;
 *  - 29 padding: with time_delta 0 the rest of the page is empty; otherwise a discarded event of 4 + array[0] bytes;
 *  - 30 time extend: 8 bytes, the delta is array[0] << 27 | time_delta;
 *  - 31 absolute time stamp: 8 bytes, the low 59 bits of the time are array[0] << 27 | time_delta (the top bits are
 *    the page's).
 * A data record starts with the trace entry's common fields (`common_type`, the event id, is its first u16), laid out
 * as the event's `format` file says.
 *
 * Little-endian only: the header word's bit fields are laid out for the CPU that wrote them, and this decoder reads
 * them as little-endian (x86_64, arm64); `pageLayoutSupported` says whether that holds here.
 */
import * as os from 'node:os';
import { ParseError } from '../../errors';

/** Where the page header's fields are (from `events/header_page`). */
export interface PageLayout {
  readonly timestampOffset: number;
  readonly commitOffset: number;
  /** 8 on 64-bit kernels (local_t is a long). */
  readonly commitSize: number;
  /** Where events start (16 on 64-bit kernels). */
  readonly dataOffset: number;
  /** Size of an unsigned long on the writing kernel, for the stored missed-events count (= commitSize). */
  readonly longSize: number;
}

/** What one page held besides its events. */
export interface PageSummary {
  /** Data records visited. */
  readonly records: number;
  /**
   * Events the ring buffer lost before this page: a count when the kernel stored one, `unknown` when it only set the
   * flag, 0 when none. Informational: the per-CPU `stats` file counts the same losses (ring-buffer-stats.ts).
   */
  readonly missedEvents: number | 'unknown';
}

/**
 * Called for each data record with the offset of its payload in the page buffer, the payload's length (the record as
 * the kernel reserved it, rounded up to 4 bytes) and the event's time stamp (ns of the trace clock, as a double:
 * exact below 2^53 ns, 104 days of uptime; after that a few ns off, never used for counting).
 */
export type RecordVisitor = (payloadOffset: number, payloadLength: number, timestamp: number) => void;

const TYPE_DATA_MAX = 28;
const TYPE_PADDING = 29;
const TYPE_TIME_EXTEND = 30;
const TYPE_TIME_STAMP = 31;
const MISSED_EVENTS = 0x80000000;
const MISSED_STORED = 0x40000000;
const COMMIT_MASK = 0x3fffffff;
const TWO_32 = 4294967296;
const TWO_27 = 134217728;
const TWO_59 = 2 ** 59;

const HEADER_FIELD = /^\tfield: ?(.+?)\s*;\toffset:(\d+);\tsize:(\d+);\tsigned:([01]);$/;

/** Whether this process can decode pages written by its own kernel (little-endian CPUs). */
export function pageLayoutSupported(): boolean {
  return os.endianness() === 'LE';
}

/**
 * Parses `events/header_page`: `timestamp`, `commit` and `data` must be there (ParseError otherwise); a `commit` of
 * 4 or 8 bytes and a `timestamp` of 8 are the only layouts the kernel has had.
 */
export function parseHeaderPage(text: string, file = 'header_page'): PageLayout {
  if (!text.endsWith('\n')) throw new ParseError(file, 'does not end with a newline: the text is truncated');
  const fields = new Map<string, { offset: number; size: number }>();
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const match = HEADER_FIELD.exec(line);
      if (!match)
        throw new ParseError(file, `expected a "field: TYPE NAME; offset:N; size:N; signed:N;" line`, index + 1);
      const name = /([A-Za-z_][A-Za-z0-9_]*)$/.exec(match[1]!)?.[1];
      if (name === undefined) throw new ParseError(file, `no field name in ${JSON.stringify(match[1])}`, index + 1);
      fields.set(name, { offset: Number(match[2]), size: Number(match[3]) });
    });
  const field = (name: string) => {
    const found = fields.get(name);
    if (!found) throw new ParseError(file, `no "${name}" field`);
    return found;
  };
  const timestamp = field('timestamp');
  const commit = field('commit');
  const data = field('data');
  if (timestamp.size !== 8) throw new ParseError(file, `timestamp is ${timestamp.size} bytes, expected 8`);
  if (commit.size !== 4 && commit.size !== 8)
    throw new ParseError(file, `commit is ${commit.size} bytes, expected 4 or 8`);
  if (data.offset < commit.offset + commit.size || data.offset % 4 !== 0) {
    throw new ParseError(file, `data at offset ${data.offset} overlaps the header or is not 4-byte aligned`);
  }
  return {
    timestampOffset: timestamp.offset,
    commitOffset: commit.offset,
    commitSize: commit.size,
    dataOffset: data.offset,
    longSize: commit.size,
  };
}

function readU64(page: Buffer, offset: number): number {
  return page.readUInt32LE(offset + 4) * TWO_32 + page.readUInt32LE(offset);
}

/**
 * Visits every data record of the page in `page[0, length)` (one read of trace_pipe_raw). Throws ParseError (naming
 * `file` and the byte offset) when the page contradicts the format: a commit beyond the page, an event running past
 * the commit, a length word that cannot be; records visited before the error were valid.
 */
export function decodePage(
  page: Buffer,
  length: number,
  layout: PageLayout,
  visit: RecordVisitor,
  file = 'trace_pipe_raw',
): PageSummary {
  const { dataOffset } = layout;
  if (length < dataOffset || length > page.length) {
    throw new ParseError(file, `page of ${length} bytes is shorter than its ${dataOffset}-byte header`);
  }
  const commitWord = page.readUInt32LE(layout.commitOffset);
  // The kernel adds the flags to a long as ints: (1 << 31) is negative, so on 64-bit kernels a page with missed
  // events has all ones in the upper half of commit (0xffffffffc0000fd0: flags, 4048 bytes of data).
  const upper = layout.commitSize === 8 ? page.readUInt32LE(layout.commitOffset + 4) : 0;
  if (upper !== 0 && !(upper === 0xffffffff && commitWord & MISSED_EVENTS)) {
    const hex = (word: number) => word.toString(16).padStart(8, '0');
    throw new ParseError(file, `commit 0x${hex(upper)}${hex(commitWord)} is beyond 32 bits`);
  }
  const commit = commitWord & COMMIT_MASK;
  const end = dataOffset + commit;
  if (end > length) throw new ParseError(file, `commit of ${commit} bytes runs past the ${length}-byte page`);
  let missedEvents: number | 'unknown' = 0;
  if (commitWord & MISSED_EVENTS) {
    missedEvents = 'unknown';
    if (commitWord & MISSED_STORED) {
      if (end + layout.longSize > length) throw new ParseError(file, 'missed-events count stored past the page');
      missedEvents = layout.longSize === 8 ? readU64(page, end) : page.readUInt32LE(end);
    }
  }
  const pageTime = readU64(page, layout.timestampOffset);
  let time = pageTime;
  let records = 0;
  let at = dataOffset;
  while (at < end) {
    if (at + 4 > end) throw new ParseError(file, `event header at byte ${at} runs past the commit (${end})`);
    const word = page.readUInt32LE(at);
    const typeLen = word & 0x1f;
    const delta = word >>> 5;
    if (typeLen >= 1 && typeLen <= TYPE_DATA_MAX) {
      const size = typeLen * 4;
      if (at + 4 + size > end) throw new ParseError(file, `event at byte ${at} (${size} bytes) runs past the commit`);
      time += delta;
      visit(at + 4, size, time);
      records += 1;
      at += 4 + size;
      continue;
    }
    if (at + 8 > end) throw new ParseError(file, `event at byte ${at} of type ${typeLen} runs past the commit`);
    const array0 = page.readUInt32LE(at + 4);
    switch (typeLen) {
      case 0: {
        // array[0] counts itself: the payload is array[0] - 4 bytes after it.
        if (array0 < 8 || array0 % 4 !== 0 || at + 4 + array0 > end) {
          throw new ParseError(file, `event at byte ${at} has an impossible length ${array0}`);
        }
        time += delta;
        visit(at + 8, array0 - 4, time);
        records += 1;
        at += 4 + array0;
        break;
      }
      case TYPE_PADDING: {
        // time_delta 0: the null event, nothing follows on this page.
        if (delta === 0) return { records, missedEvents };
        if (array0 % 4 !== 0 || at + 4 + array0 > end) {
          throw new ParseError(file, `padding at byte ${at} has an impossible length ${array0}`);
        }
        at += 4 + array0;
        break;
      }
      case TYPE_TIME_EXTEND:
        time += array0 * TWO_27 + delta;
        at += 8;
        break;
      case TYPE_TIME_STAMP: {
        // 59 bits of absolute time; the bits above come from the page's own time stamp.
        time = pageTime - (pageTime % TWO_59) + (array0 * TWO_27 + delta);
        at += 8;
        break;
      }
    }
  }
  return { records, missedEvents };
}
