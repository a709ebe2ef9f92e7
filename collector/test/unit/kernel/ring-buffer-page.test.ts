/**
 * The trace_pipe_raw page decoder on pages recorded from this kernel (test/fixtures/linux/tracefs-raw/record.py),
 * checked against the kernel's own text of the same ring buffer (the instance's `trace` file), on built pages for
 * the event kinds a recording rarely holds, and fuzzed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors';
import { kernelStackRecordLayout, kfreeSkbRecordLayout } from '../../../src/kernel/tracefs/binary-records';
import { parseEventFormat } from '../../../src/kernel/tracefs/format';
import { decodePage, parseHeaderPage, type PageLayout } from '../../../src/kernel/tracefs/ring-buffer-page';
import { assertParsesOrRejects } from '../../helpers/parser-fuzz';
import { FIXTURES, fixture } from '../../helpers/fixtures';

const DIR = 'linux/tracefs-raw';
const layout = parseHeaderPage(fixture(`${DIR}/header_page`));
const dropFormat = parseEventFormat(fixture(`${DIR}/kfree_skb.format`));
const stackFormat = parseEventFormat(fixture(`${DIR}/kernel_stack.format`));
const PAGE_SIZE = Number(fixture(`${DIR}/page_size`).trim());

/** The recorded pages of one CPU. */
function pages(cpu: number): Buffer[] {
  const bytes = fs.readFileSync(path.join(FIXTURES, DIR, `cpu${cpu}.pages`));
  return Array.from({ length: bytes.length / PAGE_SIZE }, (_, i) => bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
}

interface Visited {
  readonly type: number;
  readonly offset: number;
  readonly length: number;
  readonly timestamp: number;
}

function visitAll(page: Buffer, length = page.length, pageLayout: PageLayout = layout) {
  const visited: Visited[] = [];
  const summary = decodePage(page, length, pageLayout, (offset, recordLength, timestamp) => {
    visited.push({ type: page.readUInt16LE(offset), offset, length: recordLength, timestamp });
  });
  return { visited, summary };
}

/** The kernel's text of the same buffer: per CPU, each entry's kind and time stamp (µs, as printed). */
function textEntries(cpu: number): { kind: 'drop' | 'stack'; micros: number }[] {
  const column = `[${String(cpu).padStart(3, '0')}]`;
  return fixture(`${DIR}/trace`)
    .split('\n')
    .filter((line) => !line.startsWith('#') && line.includes(column))
    .map((line) => {
      const match = / (\d+)\.(\d{6}): (kfree_skb|<stack trace>)/.exec(line)!;
      return {
        kind: match[3] === 'kfree_skb' ? ('drop' as const) : ('stack' as const),
        micros: Number(match[1]) * 1e6 + Number(match[2]),
      };
    });
}

describe('events/header_page', () => {
  it('gives the page layout of this kernel: timestamp at 0, an 8-byte commit at 8, data at 16', () => {
    expect(layout).toEqual({ timestampOffset: 0, commitOffset: 8, commitSize: 8, dataOffset: 16, longSize: 8 });
  });

  it('refuses a header without commit, and truncations', () => {
    expect(() => parseHeaderPage('\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n')).toThrow(/no "commit"/);
    assertParsesOrRejects(fixture(`${DIR}/header_page`), parseHeaderPage, (parsed, isPrefix) => {
      if (isPrefix) expect(parsed).toEqual(layout);
    });
  });
});

describe('record layouts from the format files', () => {
  it('finds location and reason in kfree_skb, size and caller in kernel_stack', () => {
    expect(kfreeSkbRecordLayout(dropFormat)).toEqual({
      id: dropFormat.id,
      location: { offset: 16, size: 8 },
      reason: { offset: 36, size: 4 },
      minLength: 40,
    });
    expect(kernelStackRecordLayout(stackFormat)).toEqual({
      id: stackFormat.id,
      size: { offset: 8, size: 4 },
      callerOffset: 16,
      callerSize: 8,
    });
  });

  it('reads a 5.15 kfree_skb (no reason) and refuses a format without location', () => {
    const old = parseEventFormat(fixture('linux/tracefs/kfree_skb.format.5.15'));
    expect(kfreeSkbRecordLayout(old).reason).toBeUndefined();
    expect(() => kfreeSkbRecordLayout({ ...old, fields: old.fields.filter((f) => f.name !== 'location') })).toThrow(
      ParseError,
    );
  });
});

describe('decodePage on recorded pages', () => {
  it('visits every entry the kernel printed, per CPU, in order and at the printed time', () => {
    for (const cpu of [0, 1]) {
      const decoded = pages(cpu).flatMap((page) => visitAll(page).visited);
      const text = textEntries(cpu);
      expect(
        decoded.map((r) => (r.type === dropFormat.id ? 'drop' : r.type === stackFormat.id ? 'stack' : r.type)),
      ).toEqual(text.map((entry) => entry.kind));
      // The text prints the time in µs, rounded (ns2usecs adds 500 ns).
      expect(decoded.map((r) => Math.floor((r.timestamp + 500) / 1000))).toEqual(text.map((entry) => entry.micros));
    }
  });

  it('holds both CPUs, several pages, and a pause longer than a 27-bit delta (a time-extend event)', () => {
    expect(pages(0).length).toBeGreaterThan(1);
    expect(pages(1).length).toBeGreaterThan(0);
    const times = pages(0).flatMap((page) => visitAll(page).visited.map((r) => r.timestamp));
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps)).toBeGreaterThan(2 ** 27);
  });

  it('reports no missed events on pages read before the buffer filled', () => {
    for (const page of [...pages(0), ...pages(1)]) expect(visitAll(page).summary.missedEvents).toBe(0);
  });
});

/** Little-endian words of a built page: header (time 1000, commit), then the given event words. */
function builtPage(words: number[], flags = 0, extra: number[] = []): Buffer {
  const page = Buffer.alloc(4096);
  page.writeUInt32LE(1000, 0);
  const commit = words.length * 4;
  page.writeUInt32LE((commit | flags) >>> 0, 8);
  words.forEach((word, i) => page.writeUInt32LE(word >>> 0, 16 + i * 4));
  extra.forEach((word, i) => page.writeUInt32LE(word >>> 0, 16 + commit + i * 4));
  return page;
}

const header = (typeLen: number, delta: number) => ((delta << 5) | typeLen) >>> 0;

describe('decodePage on built pages (the ring buffer format of include/linux/ring_buffer.h)', () => {
  it('reads small and long data records, time extends, absolute time stamps and discarded events', () => {
    // prettier-ignore
    const page = builtPage([
      header(2, 5), 0xaaaa, 0, // 8-byte record at 1005
      header(30, 3), 1, // time extend: +(1 << 27) + 3
      header(0, 7), 12, 0xbbbb, 0, // long record: length word 12 counts itself, 8 bytes of data
      header(29, 1), 8, 0, // discarded event: array[0] = 8 bytes after the header (itself and one word)
      header(31, 9), 2, // absolute: (2 << 27) + 9
      header(1, 1), 0xcccc, // 4-byte record
    ]);
    const { visited, summary } = visitAll(page);
    expect(visited.map((r) => [r.type, r.length, r.timestamp])).toEqual([
      [0xaaaa, 8, 1005],
      [0xbbbb, 8, 1005 + 2 ** 27 + 3 + 7],
      [0xcccc, 4, 2 * 2 ** 27 + 9 + 1],
    ]);
    expect(summary).toEqual({ records: 3, missedEvents: 0 });
  });

  it('stops at the null padding event: the rest of the page is empty', () => {
    const page = builtPage([header(1, 1), 0x1111, header(29, 0), 0, header(1, 1), 0x2222]);
    expect(visitAll(page).visited.map((r) => r.type)).toEqual([0x1111]);
  });

  it('reads the missed-events flags and the stored count after the data', () => {
    expect(visitAll(builtPage([header(1, 1), 1], 0x80000000)).summary.missedEvents).toBe('unknown');
    expect(visitAll(builtPage([header(1, 1), 1], 0xc0000000, [42, 0])).summary.missedEvents).toBe(42);
  });

  it('reads a 64-bit commit whose flags the kernel sign-extended (seen after an overrun: 0xffffffffc0000fd0)', () => {
    const page = builtPage([header(1, 1), 0x1111], 0xc0000000, [32568, 0]);
    page.writeUInt32LE(0xffffffff, 12);
    expect(visitAll(page).summary).toEqual({ records: 1, missedEvents: 32568 });
    // Without the flag, an upper half is not a sign extension: refused.
    const unflagged = builtPage([header(1, 1), 0x1111]);
    unflagged.writeUInt32LE(0xffffffff, 12);
    expect(() => visitAll(unflagged)).toThrow(/commit 0xffffffff00000008 is beyond 32 bits/);
  });

  it('refuses what the format cannot hold: a commit past the page, a record past the commit, a bad length', () => {
    const beyond = builtPage([]);
    beyond.writeUInt32LE(5000, 8);
    expect(() => visitAll(beyond)).toThrow(/runs past/);
    expect(() => visitAll(builtPage([header(3, 1), 0]))).toThrow(/runs past the commit/);
    expect(() => visitAll(builtPage([header(0, 1), 3]))).toThrow(/impossible length/);
    expect(() => visitAll(builtPage([header(1, 1), 0]), 8)).toThrow(/shorter than its 16-byte header/);
  });

  it('fuzz: a recorded page with any byte changed, or any bytes, decodes within bounds or throws ParseError', () => {
    const recorded = pages(0)[0]!;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.integer({ min: 0, max: PAGE_SIZE - 1 }), fc.integer({ min: 0, max: 255 })).map(([at, value]) => {
            const page = Buffer.from(recorded);
            page[at] = value;
            return page;
          }),
          fc.uint8Array({ minLength: 0, maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
        ),
        (page) => {
          try {
            const { visited } = visitAll(page);
            for (const record of visited) {
              expect(record.offset).toBeGreaterThanOrEqual(layout.dataOffset);
              expect(record.offset + record.length).toBeLessThanOrEqual(page.length);
            }
          } catch (error) {
            expect(error).toBeInstanceOf(ParseError);
          }
        },
      ),
    );
  });
});
