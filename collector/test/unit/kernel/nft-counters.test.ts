import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { ParseError } from '../../../src/errors';
import { forEachAttribute } from '../../../src/kernel/netlink';
import {
  forEachNftCounter,
  NFT_MSG_GETOBJ,
  nftCounterDumpRequest,
  parseNftCounterChunk,
  parseNftCounterDump,
  type NftCounterAt,
  type NftCounterObject,
} from '../../../src/kernel/nft-counters';
import { FIXTURES } from '../../helpers/fixtures';
import {
  itFuzzesChunkParser,
  netlinkAttribute as attribute,
  netlinkDone,
  netlinkMessage as message,
} from '../../helpers/netlink-frames';

// The real attribute walk, counted: which messages take the general walk rather than the kernel layout's fast path.
jest.mock('../../../src/kernel/netlink', () => {
  const actual = jest.requireActual<typeof import('../../../src/kernel/netlink')>('../../../src/kernel/netlink');
  return { ...actual, forEachAttribute: jest.fn(actual.forEachAttribute) };
});

const DIR = path.join(FIXTURES, 'linux', 'nft');
/** Recorded by record-counter-dump.py in that directory from this kernel (6.18, x86_64: little-endian). */
const KAPPIE_DUMP = fs.readFileSync(path.join(DIR, 'counters-kappie.dump'));
const KAPPIE_JSON = fs.readFileSync(path.join(DIR, 'counters-kappie.nft.json'), 'utf8');
const INET_DUMP = fs.readFileSync(path.join(DIR, 'objects-inet.dump'));

/** The counters `nft -j` printed, as [table, name, packets, bytes] (the kappie table's values are all small). */
function countersFromNft(text: string): [string, string, number, number][] {
  const document = JSON.parse(text) as { nftables: { counter?: Record<string, unknown> }[] };
  return document.nftables
    .flatMap((entry) => (entry.counter === undefined ? [] : [entry.counter]))
    .map((counter) => [
      counter['table'] as string,
      counter['name'] as string,
      counter['packets'] as number,
      counter['bytes'] as number,
    ]);
}

const asRows = (counters: readonly NftCounterObject[]) =>
  counters.map((c): [string, string, number, number] => [c.table, c.name, Number(c.packets), Number(c.bytes)]);

const text = (value: string) => Buffer.from(`${value}\0`);
const be32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
};
const be64 = (value: bigint) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value, 0);
  return bytes;
};
const NEWOBJ = 0xa12;
const DONE = netlinkDone();
const objectMessage = (...attributes: Buffer[]) =>
  message(NEWOBJ, Buffer.concat([Buffer.from([1, 0, 0, 1]), ...attributes]));
const counterData = (packets?: bigint, bytes?: bigint) =>
  attribute(
    4 | 0x8000,
    Buffer.concat([
      ...(bytes === undefined ? [] : [attribute(1, be64(bytes))]),
      ...(packets === undefined ? [] : [attribute(2, be64(packets))]),
    ]),
  );

describe('parseNftCounterDump on dumps recorded from this kernel', () => {
  it('gives the 512 counters of the kappie table as `nft -j list counters table inet kappie` printed them', () => {
    const dump = parseNftCounterDump(KAPPIE_DUMP, true);
    expect(dump.interrupted).toBe(false);
    expect(dump.counters).toHaveLength(512);
    expect(asRows(dump.counters)).toEqual(countersFromNft(KAPPIE_JSON));
    // TCP moved some of them: the recording is not all zeros.
    expect(dump.counters.filter((counter) => counter.packets > 0n).length).toBeGreaterThan(3);
  });

  it('keeps every table and skips other object types in an unfiltered dump, values exact beyond 2^53', () => {
    const { counters } = parseNftCounterDump(INET_DUMP, true);
    expect(new Set(counters.map((counter) => counter.table))).toEqual(new Set(['kappie', 'other']));
    expect(counters).toHaveLength(513); // the quota `q` is not a counter
    // nft -j prints 2^64-1 bytes as -1 and JSON.parse rounds 2^53+1: only the bytes say what the kernel holds.
    expect(counters.find((counter) => counter.name === 'big')).toEqual({
      table: 'other',
      name: 'big',
      packets: 9_007_199_254_740_993n,
      bytes: 2n ** 64n - 1n,
    });
  });

  it('builds the request `nft list counters table inet kappie` sends, filtered by table and type', () => {
    const request = nftCounterDumpRequest('inet', 'kappie', 7, true);
    expect([
      request.readUInt32LE(0),
      request.readUInt16LE(4),
      request.readUInt16LE(6),
      request.readUInt32LE(8),
    ]).toEqual([request.length, NFT_MSG_GETOBJ, 0x301, 7]);
    expect(request.subarray(16, 20)).toEqual(Buffer.from([1, 0, 0, 0])); // inet, NFNETLINK_V0, res_id 0
    expect(request.subarray(20)).toEqual(Buffer.concat([attribute(1, text('kappie')), attribute(3, be32(1))]));
    expect(() => nftCounterDumpRequest('inet', '', 1, true)).toThrow(RangeError);
    expect(() => nftCounterDumpRequest('inet', 'x'.repeat(256), 1, true)).toThrow(RangeError);
  });

  it('reads a table that does not exist as an empty dump', () => {
    expect(parseNftCounterDump(DONE, true)).toEqual({ counters: [], interrupted: false });
  });

  it('says when the kernel flagged the dump as interrupted', () => {
    const interrupted = Buffer.from(KAPPIE_DUMP);
    interrupted.writeUInt16LE(interrupted.readUInt16LE(6) | 0x10, 6);
    expect(parseNftCounterDump(interrupted, true).interrupted).toBe(true);
  });

  it('reports kernel errors, incomplete counters and a missing NLMSG_DONE', () => {
    const eperm = Buffer.alloc(4);
    eperm.writeInt32LE(-1, 0);
    expect(() => parseNftCounterDump(message(2, eperm), true)).toThrow(
      new ParseError('nftables counter dump', 'the kernel answered the dump with error 1'),
    );
    const named = [attribute(1, text('t')), attribute(2, text('c')), attribute(3, be32(1))];
    expect(() => parseNftCounterDump(Buffer.concat([objectMessage(...named), DONE]), true)).toThrow(
      /counter t\/c has no NFTA_OBJ_DATA/,
    );
    expect(() =>
      parseNftCounterDump(Buffer.concat([objectMessage(...named, counterData(5n, undefined)), DONE]), true),
    ).toThrow(/counter t\/c lacks bytes/);
    expect(() => parseNftCounterDump(Buffer.concat([objectMessage(named[0]!, named[2]!), DONE]), true)).toThrow(
      /an object without name/,
    );
    expect(() =>
      parseNftCounterDump(
        Buffer.concat([objectMessage(attribute(1, Buffer.from('t')), named[1]!, named[2]!), DONE]),
        true,
      ),
    ).toThrow(/NFTA_OBJ_TABLE is not NUL-terminated/);
    expect(() => parseNftCounterDump(KAPPIE_DUMP.subarray(0, KAPPIE_DUMP.length - DONE.length), true)).toThrow(
      /no NLMSG_DONE/,
    );
    const quota = objectMessage(attribute(1, text('t')), attribute(2, text('q')), attribute(3, be32(2)));
    expect(parseNftCounterDump(Buffer.concat([quota, DONE]), true).counters).toEqual([]);
  });
});

/** The recording's first `count` messages and its NLMSG_DONE: a whole dump small enough to fuzz byte by byte. */
function firstMessages(dump: Buffer, count: number): Buffer {
  let at = 0;
  for (let i = 0; i < count; i++) at += (dump.readUInt32LE(at) + 3) & ~3;
  return Buffer.concat([dump.subarray(0, at), DONE]);
}

describe('parseNftCounterChunk fuzzing', () => {
  const SAMPLE = firstMessages(KAPPIE_DUMP, 6);
  const parse = (bytes: Buffer, length: number) => {
    const dump = { counters: [] as NftCounterObject[], interrupted: false };
    const done = parseNftCounterChunk(bytes, length, true, dump);
    for (const counter of dump.counters) {
      expect(typeof counter.table).toBe('string');
      expect(typeof counter.name).toBe('string');
      expect(typeof counter.packets).toBe('bigint');
      expect(typeof counter.bytes).toBe('bigint');
    }
    return done;
  };

  it('the sample is a whole dump of 6 counters', () => {
    expect(parseNftCounterDump(SAMPLE, true).counters).toHaveLength(6);
  });

  itFuzzesChunkParser(SAMPLE, parse, 600, 'whole counters with a table and a name');
});

/** Where the parser found each counter's parts, or the error it threw: what both of its paths must agree on. */
function outcome(bytes: Buffer, length: number, kernelLayout: boolean) {
  const counters: number[][] = [];
  const sink = {
    interrupted: false,
    counter: (at: NftCounterAt) =>
      counters.push([at.tableStart, at.tableEnd, at.nameStart, at.nameEnd, at.packetsAt, at.bytesAt]),
  };
  try {
    const done = forEachNftCounter(bytes, length, true, sink, kernelLayout);
    return { done, interrupted: sink.interrupted, counters };
  } catch (error) {
    expect(error).toBeInstanceOf(ParseError);
    return { error: (error as Error).message, counters };
  }
}

/** How many messages of `dump` take the general attribute walk (one NFTA_OBJ_DATA walk and one object walk each). */
function generalWalks(dump: Buffer): number {
  const walk = jest.mocked(forEachAttribute);
  walk.mockClear();
  parseNftCounterDump(dump, true);
  return walk.mock.calls.length / 2;
}

/** A counter object in the order Linux before 6.x wrote it: table, name, type, use, data, handle. */
const beforeLinux6 = (name: string, packets: bigint, bytes: bigint) =>
  objectMessage(
    attribute(1, text('kappie')),
    attribute(2, text(name)),
    attribute(3, be32(1)),
    attribute(5, be32(1)),
    attribute(4, Buffer.concat([attribute(1, be64(bytes)), attribute(2, be64(packets))])),
    attribute(6, be64(77n)),
  );

/** The recording's first message (Linux 6.18's layout) with `change` applied to a copy of it. */
function recordedMessage(change: (message: Buffer) => Buffer = (message) => message): Buffer {
  return change(Buffer.from(KAPPIE_DUMP.subarray(0, KAPPIE_DUMP.readUInt32LE(0))));
}

describe('the fast path for the layout the kernel writes', () => {
  it('reads every message of the recorded dump without the general attribute walk', () => {
    expect(generalWalks(KAPPIE_DUMP)).toBe(0);
    expect(generalWalks(Buffer.concat([beforeLinux6('c', 3n, 4n), DONE]))).toBe(0);
    expect(parseNftCounterDump(Buffer.concat([beforeLinux6('c', 3n, 4n), DONE]), true).counters).toEqual([
      { table: 'kappie', name: 'c', packets: 3n, bytes: 4n },
    ]);
  });

  it('reads a chunk that is not 4-byte aligned in memory with the general walk, to the same counters', () => {
    const unaligned = Buffer.alloc(KAPPIE_DUMP.length + 1).subarray(1);
    KAPPIE_DUMP.copy(unaligned);
    expect(generalWalks(unaligned)).toBe(512);
    expect(parseNftCounterDump(unaligned, true)).toEqual(parseNftCounterDump(KAPPIE_DUMP, true));
  });

  it('leaves any other layout to the general walk, which reads the same counter', () => {
    const recorded = parseNftCounterDump(Buffer.concat([recordedMessage(), DONE]), true).counters;
    // The recording: nfgenmsg at 16, table at 20 (12 bytes), name at 32 (20), type at 52, handle at 60, use at 72,
    // data at 80 (bytes at 84, packets at 96), 108 bytes in all.
    const withFlag = (offset: number, flag: number) => (message: Buffer) => {
      message.writeUInt16LE(message.readUInt16LE(offset + 2) | flag, offset + 2);
      return message;
    };
    const otherLayouts = [
      withFlag(52, 0x4000), // NLA_F_NET_BYTEORDER on NFTA_OBJ_TYPE
      withFlag(84, 0x4000), // ... on NFTA_COUNTER_BYTES
      (message: Buffer) => {
        // packets before bytes
        const swapped = Buffer.concat([message.subarray(0, 84), message.subarray(96, 108), message.subarray(84, 96)]);
        return swapped;
      },
      // user data after the counter (a comment)
      (message: Buffer) => lengthened(Buffer.concat([message, attribute(8, Buffer.from('note'))])),
      // the name after the type
      (message: Buffer) =>
        Buffer.concat([
          message.subarray(0, 32),
          message.subarray(52, 60),
          message.subarray(32, 52),
          message.subarray(60),
        ]),
    ];
    for (const change of otherLayouts) {
      const dump = Buffer.concat([recordedMessage(change), DONE]);
      expect(generalWalks(dump)).toBe(1);
      expect(parseNftCounterDump(dump, true).counters).toEqual(recorded);
    }
  });

  it("keeps the general walk's errors for a message that is nearly the kernel's layout", () => {
    const parse = (change: (message: Buffer) => Buffer) =>
      parseNftCounterDump(Buffer.concat([recordedMessage(change), DONE]), true);
    const set = (offset: number, value: number) => (message: Buffer) => {
      message[offset] = value;
      return message;
    };
    expect(() => parse(set(30, 0x41))).toThrow(/NFTA_OBJ_TABLE is not NUL-terminated/); // `kappie` + 'A' + padding 0
    expect(() => parse(set(48, 0x41))).toThrow(/NFTA_OBJ_NAME is not NUL-terminated/);
    expect(() => parse(set(52, 7))).toThrow(/NFTA_OBJ_TYPE of 3 bytes, expected 4/);
    expect(() => parse(set(84, 8))).toThrow(/counter ingress_0x00 bytes of 4 bytes, expected 8/);
    expect(() => parse(set(80, 200))).toThrow(/attribute length 200 at byte 80 does not fit its message/);
    expect(() => parse(set(96, 0))).toThrow(/attribute length 0 at byte 96 does not fit its message/);
    expect(() => parse(set(98, 3))).toThrow(/counter kappie\/ingress_0x00 lacks packets/);
    // A header-only attribute after the counter's data: an empty name.
    const emptyName = (message: Buffer) => lengthened(Buffer.concat([message, attribute(2, Buffer.alloc(0))]));
    expect(() => parse(emptyName)).toThrow(/NFTA_OBJ_NAME is not NUL-terminated/);
  });
});

/** The message's length field set to its length (after bytes were added to its end). */
function lengthened(message: Buffer): Buffer {
  message.writeUInt32LE(message.length, 0);
  return message;
}

describe('the fast path against the general walk', () => {
  const SAMPLE = Buffer.concat([
    firstMessages(KAPPIE_DUMP, 3).subarray(0, -DONE.length),
    beforeLinux6('c', 1n, 2n),
    DONE,
  ]);
  const agree = (bytes: Buffer, length: number) =>
    expect(outcome(bytes, length, true)).toEqual(outcome(bytes, length, false));

  it('agree on the sample (kernel 6.18 messages and the older order)', () => {
    expect(outcome(SAMPLE, SAMPLE.length, true).counters).toHaveLength(4);
    agree(SAMPLE, SAMPLE.length);
  });

  it('agree on the sample cut anywhere', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: SAMPLE.length }), (cut) => agree(SAMPLE, cut)));
  });

  it('agree on the sample with one byte changed anywhere: the same counters or the same error', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SAMPLE.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, value) => {
        const bytes = Buffer.from(SAMPLE);
        bytes[at] = value;
        agree(bytes, bytes.length);
      }),
      { numRuns: 2000 },
    );
  });
});
