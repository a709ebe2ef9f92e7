/**
 * The flag counters summed straight from the nftables dump (flag-counters.ts, a sink of kernel/nft-counters.ts): the
 * same totals as the decoded objects summed by name, whatever the order of the counters, with the same refusals
 * (a duplicate, a missing counter, a value beyond 2^53, a name that is not UTF-8).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { ParseError } from '../../src/errors';
import { forEachNftCounter, nftCounterNumber, parseNftCounterDump } from '../../src/kernel/nft-counters';
import {
  createFlagCounterSums,
  flagSamples,
  flagTotals,
  sumFlagCounters,
  type FlagCounterSums,
} from '../../src/sources/linux/flag-counters';
import { flagCounterName, NFT_DIRECTIONS } from '../../src/sources/linux/nft-ruleset';
import { FLAG_BYTE_VALUES } from '../../src/sources/linux/tcp-flag-bits';
import { countersByName } from '../../src/sources/linux/tcp-flags';
import { FIXTURES } from '../helpers/fixtures';
import {
  itFuzzesChunkParser,
  netlinkAttribute as attribute,
  netlinkDone,
  netlinkMessage as message,
} from '../helpers/netlink-frames';

/** Recorded by record-counter-dump.py from this kernel (6.18, x86_64: little-endian); TCP moved some counters. */
const KAPPIE_DUMP = fs.readFileSync(path.join(FIXTURES, 'linux', 'nft', 'counters-kappie.dump'));
const NEWOBJ = 0xa12;
const DONE = netlinkDone();

const text = (value: string | Buffer) => Buffer.concat([Buffer.from(value), Buffer.from([0])]);
const be32 = (value: number) => Buffer.from([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
const be64 = (value: bigint) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value, 0);
  return bytes;
};

/**
 * One NFT_MSG_NEWOBJ message of a counter object, as Linux 6.x sends it (nfgenmsg, table, name, type, handle, use,
 * data: the parser's fast path), or without handle and use (`general`: the parser's general attribute walk).
 */
function counterMessage(name: string | Buffer, packets: bigint, bytes: bigint = packets, general = false): Buffer {
  const data = Buffer.concat([attribute(1, be64(bytes)), attribute(2, be64(packets))]);
  return message(
    NEWOBJ,
    Buffer.concat([
      Buffer.from([1, 0, 0, 1]),
      attribute(1, text('kappie')),
      attribute(2, text(name)),
      attribute(3, be32(1)),
      ...(general ? [] : [attribute(6, be64(9n)), attribute(5, be32(1))]),
      attribute(4 | 0x8000, data),
    ]),
  );
}

/** Every flag counter's name with its value from `valueOf`, in creation order (direction-major, then flag byte). */
function flagCounters(valueOf: (index: number) => bigint): [string, bigint][] {
  return NFT_DIRECTIONS.flatMap((direction, d) =>
    FLAG_BYTE_VALUES.map((value, i): [string, bigint] => [flagCounterName(direction, value), valueOf(d * 256 + i)]),
  );
}

const dumpOf = (counters: readonly [string | Buffer, bigint][]) =>
  Buffer.concat([...counters.map(([name, packets]) => counterMessage(name, packets)), DONE]);

/** The dump parsed into FlagCounterSums (the path a serving collector takes). */
function sums(dump: Buffer): FlagCounterSums {
  const sink = createFlagCounterSums();
  expect(forEachNftCounter(dump, dump.length, true, sink)).toBe(true);
  return sink;
}

/** The dump decoded into objects and summed by name (the path a snapshot takes). */
const totalsByName = (dump: Buffer) =>
  sumFlagCounters(countersByName(parseNftCounterDump(dump, true).counters, 'kappie'));

describe('flag counters summed from the dump', () => {
  it('gives the recorded dump the totals of its decoded counters summed by name', () => {
    const recorded = sums(KAPPIE_DUMP);
    expect(recorded.objects).toBe(512);
    const totals = flagTotals([recorded]);
    expect(totals).toEqual(totalsByName(KAPPIE_DUMP));
    expect(flagSamples(totals).some((sample) => sample.value > 0)).toBe(true);
  });

  it('counters in any order (random values, shuffled, other counters between): the totals summed by name', () => {
    // Up to 2^40 each, so that no sum of 256 of them goes beyond 2^53 (where the two orders of adding could round).
    const values = fc.array(fc.nat({ max: 2 ** 40 }), { minLength: 512, maxLength: 512 });
    fc.assert(
      fc.property(values, fc.integer(), (packets, seed) => {
        const counters: [string, bigint][] = [...flagCounters((index) => BigInt(packets[index]!)), ['other', 7n]];
        // A deterministic shuffle from the seed: the kernel lists in creation order, a changed table may not.
        const order = counters.map((counter, i) => ({ counter, key: Math.sin(seed + i) }));
        const shuffled = order.sort((a, b) => a.key - b.key).map(({ counter }) => counter);
        const dump = dumpOf(shuffled);
        expect(flagTotals([sums(dump)])).toEqual(totalsByName(dump));
      }),
      { numRuns: 10 },
    );
  });

  it('adds the tables up, and a counter missing from every table is named', () => {
    const inet = sums(dumpOf(flagCounters((index) => BigInt(index))));
    const bridge = sums(dumpOf(flagCounters(() => 1n).filter(([name]) => name !== 'egress_0x12')));
    const both = flagTotals([inet, bridge]);
    const inetOnly = flagTotals([inet]);
    expect(both.egress.SYNACK).toBe(inetOnly.egress.SYNACK + 63); // 64 flag bytes with SYN and ACK, one missing
    expect(() => flagTotals([bridge])).toThrow(/counter egress_0x12 is missing/);
  });

  it('refuses a counter twice, ours or not, and a name that is not UTF-8', () => {
    const ours = flagCounters(() => 1n);
    expect(() => sums(dumpOf([...ours, ours[5]!]))).toThrow(/counter ingress_0x05 appears twice/);
    expect(() => sums(dumpOf([...ours, ['x', 1n], ['x', 2n]]))).toThrow(/counter x appears twice/);
    expect(() => sums(dumpOf([...ours, [Buffer.from([0xff, 0xfe]), 1n]]))).toThrow(/NFTA_OBJ_NAME is not UTF-8/);
  });

  it('counts a counter only under its own name: one byte changed anywhere, or a name shorter or longer, is not it', () => {
    const ours = flagCounters((index) => BigInt(index + 1));
    const name = 'ingress_0x01';
    const others = [
      ...[...name].map((_, at) => `${name.slice(0, at)}${name[at] === 'Z' ? 'Y' : 'Z'}${name.slice(at + 1)}`),
      name.slice(0, -1),
      `${name}0`,
      'xingress_0x01',
    ];
    for (const other of others) {
      const dump = dumpOf(
        ours.map(([counter, packets]): [string, bigint] => [counter === name ? other : counter, packets]),
      );
      const sink = sums(dump);
      expect(sink.objects).toBe(512);
      expect(() => flagTotals([sink])).toThrow(
        new ParseError('nftables counter dump', `counter ${name} is missing from the flag table`),
      );
    }
  });

  it('reads u64 values exactly up to 2^53 - 1 and refuses 2^53 packets or bytes', () => {
    const big = 2n ** 53n - 1n;
    const exact = sums(
      dumpOf(flagCounters((index) => (index === 0x100 + 0x02 ? big : index === 1 ? 2n ** 32n + 5n : 0n))),
    );
    const totals = flagTotals([exact]);
    expect(totals.egress.SYN).toBe(Number(big));
    expect(totals.ingress.FIN).toBe(2 ** 32 + 5);
    const tooBig = (packets: bigint, bytes: bigint, general: boolean) =>
      Buffer.concat([
        ...flagCounters(() => 0n)
          .slice(1)
          .map(([name]) => counterMessage(name, 0n)),
        counterMessage('ingress_0x00', packets, bytes, general),
        DONE,
      ]);
    for (const general of [false, true]) {
      expect(() => sums(tooBig(2n ** 53n, 0n, general))).toThrow(
        new ParseError('nftables counter dump', `counter ingress_0x00 packets ${2n ** 53n} > 2^53`),
      );
      expect(() => sums(tooBig(0n, 2n ** 64n - 1n, general))).toThrow(
        /counter ingress_0x00 bytes 18446744073709551615 > 2\^53/,
      );
    }
  });

  it('reads a number from the two 32-bit halves of the u64', () => {
    const dump = Buffer.concat([counterMessage('c', 2n ** 40n + 3n, 2n ** 52n + 1n), DONE]);
    const seen: number[] = [];
    forEachNftCounter(dump, dump.length, true, {
      interrupted: false,
      counter: (at) => seen.push(nftCounterNumber(at, 'packets'), nftCounterNumber(at, 'bytes')),
    });
    expect(seen).toEqual([2 ** 40 + 3, 2 ** 52 + 1]);
  });

  it('counts no object in the dump of a missing table', () => {
    expect(sums(DONE).objects).toBe(0);
  });
});

describe('flag counter sums fuzzing', () => {
  /** The first 6 counters of the recording and its NLMSG_DONE. */
  let at = 0;
  for (let i = 0; i < 6; i++) at += (KAPPIE_DUMP.readUInt32LE(at) + 3) & ~3;
  const SAMPLE = Buffer.concat([KAPPIE_DUMP.subarray(0, at), DONE]);
  const parse = (bytes: Buffer, length: number) => {
    const sink = createFlagCounterSums();
    const done = forEachNftCounter(bytes, length, true, sink);
    for (const value of sink.packets) expect(Number.isSafeInteger(value) && value >= 0).toBe(true);
    return done;
  };

  itFuzzesChunkParser(SAMPLE, parse, 600, 'exact sums');
});
