/**
 * The 512 named counters of the flag tables (nft-ruleset.ts: one per direction and flag byte, `ingress_0x12`) summed
 * per catalog flag (tcp-flag-bits.ts). Pure: the values come from the nftables counter dump (kernel/nft-counters.ts,
 * through FlagCounterSums, a sink of its parser) or from a map of counters by name (a snapshot, `nft -j` output).
 *
 * The dump is read at every gathering, so FlagCounterSums keeps it cheap: a counter's name is compared, 4 bytes per
 * read, with the name expected at that place (the kernel lists a table's objects in creation order, which is ours)
 * and only decoded when it differs; packets are read as numbers (exact below 2^53, else a ParseError) and added
 * straight to the flags of the counter's flag byte (nothing to add for most: no segment had that flag byte). No
 * string, bigint or object is made per counter (the object path made two strings, two
 * bigints, an object and a map entry for each of the 512, then summed them from a map by name).
 */
import { TCP_FLAGS, type TcpFlag } from '../../catalog';
import { ParseError } from '../../errors';
import {
  checkNftCounterNumber,
  nftCounterName,
  nftCounterNumber,
  type NftCounterAt,
  type NftCounterSink,
} from '../../kernel/nft-counters';
import type { Sample } from '../../source';
import type { NftCounter } from './nft-json';
import { flagCounterName, NFT_DIRECTIONS, type NftDirection } from './nft-ruleset';
import { FLAG_BYTE_VALUES, FLAGS_BY_BYTE } from './tcp-flag-bits';

/** Packets (TCP segments) per direction and catalog flag: the values of kappie_tcp_flag_counters. */
export type FlagTotals = Record<NftDirection, Record<TcpFlag, number>>;

/** How many flag counters a table holds: one per direction and flag byte. */
const FLAG_COUNTER_COUNT = NFT_DIRECTIONS.length * FLAG_BYTE_VALUES.length;

/** The counter names by counter index (direction-major, then flag byte), made once. */
const COUNTER_NAMES: readonly string[] = NFT_DIRECTIONS.flatMap((direction) =>
  FLAG_BYTE_VALUES.map((value) => flagCounterName(direction, value)),
);
/** The same names as the UTF-8 bytes the kernel sends. */
const COUNTER_NAME_BYTES: readonly Uint8Array[] = COUNTER_NAMES.map((name) => new TextEncoder().encode(name));
const COUNTER_INDEX = new Map(COUNTER_NAMES.map((name, index) => [name, index]));

const WHAT = 'nftables counter dump';

/**
 * Each name's bytes as the little-endian u32 words at offsets 0, 4, 8, ... with the last word at length - 4 (it may
 * overlap the one before): comparing a name the kernel sent takes ceil(length / 4) reads (3 for `ingress_0x12`), where
 * a loop over its bytes ran a dozen times more operations without TurboFan. Every name is at least 4 bytes long.
 */
const COUNTER_NAME_WORDS: readonly (readonly number[])[] = COUNTER_NAME_BYTES.map((bytes) => {
  if (bytes.length < 4) throw new Error(`flag counter name of ${bytes.length} bytes: the word compare needs 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words: number[] = [];
  for (let at = 0; at < bytes.length - 4; at += 4) words.push(view.getUint32(at, true));
  words.push(view.getUint32(bytes.length - 4, true));
  return words;
});

/** True when the name at `at` (without its NUL) is the flag counter name of `index`. */
function isCounterName(at: NftCounterAt, index: number): boolean {
  const start = at.nameStart;
  const end = at.nameEnd;
  if (end - start !== COUNTER_NAME_BYTES[index]!.length) return false;
  const words = COUNTER_NAME_WORDS[index]!;
  const view = at.view;
  const last = words.length - 1;
  for (let i = 0; i < last; i++) if (view.getUint32(start + 4 * i, true) !== words[i]) return false;
  return view.getUint32(end - 4, true) === words[last];
}

/**
 * For each counter index, the slots of FlagCounterSums.packets its packets add to (direction * TCP_FLAGS.length + the
 * index of each flag of its flag byte): computed once, so a gathering does no division or lookup by name.
 */
const SUM_SLOTS: readonly (readonly number[])[] = NFT_DIRECTIONS.flatMap((_, direction) =>
  FLAG_BYTE_VALUES.map((value) =>
    FLAGS_BY_BYTE[value]!.map((flag) => direction * TCP_FLAGS.length + TCP_FLAGS.indexOf(flag)),
  ),
);

/**
 * The flag counters of ONE table, their packets summed per direction and flag as they arrive (a sink of the dump's
 * parser). A counter the table holds twice is a ParseError, as is a packet or byte count beyond 2^53; counters that are
 * not flag counters are checked alike and left out. Bytes are checked, not summed: no metric exports them.
 */
export interface FlagCounterSums extends NftCounterSink {
  /**
   * Packets by direction and flag: index = direction * TCP_FLAGS.length + the flag's TCP_FLAGS index. A plain array:
   * its small integers are read back without allocating, where each number read from a Float64Array is a new heap
   * number without TurboFan (--no-opt).
   */
  readonly packets: number[];
  /** 1 at each counter index (direction * 256 + flag byte) the table holds. */
  readonly present: Uint8Array;
  /** Every counter object seen, flag counter or not: none means the table does not exist. */
  readonly objects: number;
}

/** Adds one flag counter's packets to the sums of the flags its flag byte counts under. */
function addToFlags(sums: number[], index: number, packets: number): void {
  const slots = SUM_SLOTS[index]!;
  for (let i = 0; i < slots.length; i++) sums[slots[i]!] = sums[slots[i]!]! + packets;
}

/** Empty sums for one table's dump (`dumpNftCountersInto` makes one per attempt). */
export function createFlagCounterSums(): FlagCounterSums {
  const packets: number[] = new Array<number>(NFT_DIRECTIONS.length * TCP_FLAGS.length).fill(0);
  const present = new Uint8Array(FLAG_COUNTER_COUNT);
  /** Names of counters that are not ours, kept only to refuse a duplicate (there are none in our tables). */
  let others: Set<string> | undefined;
  let objects = 0;
  /** Where the next counter is expected: right after the previous one, as the kernel lists them. */
  let expected = 0;
  /** The index of a counter that is not the expected one: by name, or -1 (and remembered) when it is not ours. */
  const indexByName = (at: NftCounterAt): number => {
    const name = nftCounterName(at);
    const index = COUNTER_INDEX.get(name);
    if (index !== undefined) return index;
    others ??= new Set();
    if (others.has(name)) throw new ParseError(WHAT, `counter ${name} appears twice`);
    others.add(name);
    return -1;
  };
  return {
    packets,
    present,
    get objects() {
      return objects;
    },
    interrupted: false,
    counter(at) {
      objects += 1;
      const count = nftCounterNumber(at, 'packets');
      checkNftCounterNumber(at, 'bytes');
      const index = isCounterName(at, expected) ? expected : indexByName(at);
      if (index < 0) return;
      if (present[index] === 1) throw new ParseError(WHAT, `counter ${COUNTER_NAMES[index]} appears twice`);
      present[index] = 1;
      expected = (index + 1) % FLAG_COUNTER_COUNT;
      // addToFlags without its call (this runs 512 times per gathering), and nothing to add for the many flag bytes
      // no segment had.
      if (count === 0) return;
      const slots = SUM_SLOTS[index]!;
      for (let i = 0; i < slots.length; i++) packets[slots[i]!] = packets[slots[i]!]! + count;
    },
  };
}

/** FlagCounterSums of counters by name (a snapshot's map, `nft -j` output); other names are left out. */
function flagCounterSumsOf(counters: ReadonlyMap<string, NftCounter>): FlagCounterSums {
  const sums = createFlagCounterSums();
  COUNTER_NAMES.forEach((name, index) => {
    const counter = counters.get(name);
    if (counter === undefined) return;
    sums.present[index] = 1;
    addToFlags(sums.packets, index, counter.packets);
  });
  return sums;
}

/**
 * Per-flag packet totals of the flag counters of `tables`, added up (a segment passes one table only). Every one of
 * the 512 counters must be in some table: a missing one is a ParseError naming it, never a zero.
 */
export function flagTotals(tables: readonly FlagCounterSums[]): FlagTotals {
  for (let index = 0; index < FLAG_COUNTER_COUNT; index++) {
    let present = false;
    for (let t = 0; t < tables.length && !present; t++) present = tables[t]!.present[index] === 1;
    if (!present) throw new ParseError(WHAT, `counter ${COUNTER_NAMES[index]} is missing from the flag table`);
  }
  const totals = {} as FlagTotals;
  NFT_DIRECTIONS.forEach((direction, d) => {
    const perFlag = {} as Record<TcpFlag, number>;
    TCP_FLAGS.forEach((flag, f) => {
      perFlag[flag] = tables.reduce((sum, table) => sum + table.packets[d * TCP_FLAGS.length + f]!, 0);
    });
    totals[direction] = perFlag;
  });
  return totals;
}

/** Per-flag totals of counters by name (flagTotals of one table); every one of the 512 counters must be present. */
export function sumFlagCounters(counters: ReadonlyMap<string, NftCounter>): FlagTotals {
  return flagTotals([flagCounterSumsOf(counters)]);
}

/** One sample per flag and direction, zeros included, so every series exists from the first scrape. */
export function flagSamples(totals: FlagTotals): Sample<'tcpFlagCounters'>[] {
  return NFT_DIRECTIONS.flatMap((direction) =>
    TCP_FLAGS.map((flag) => ({ labels: { flag, direction }, value: totals[direction][flag] })),
  );
}
