/**
 * Totals over a set of members that changes while the collector runs, kept as counters: pod veths and Windows
 * container vNICs come and go with pods, the default route moves between uplinks, VFP ports and Hyper-V adapters
 * appear and vanish. The one mechanism behind kappie_interface_stats{interface_name="pod_interfaces"}, kappie_forward_*,
 * and the Windows VFP, Hyper-V and TCP statistics totals.
 *
 * A plain sum of the members' current values is not a counter: it falls when a member leaves (Prometheus' rate() reads
 * any fall as a reset and counts the whole new value as growth) and it counts a member's whole lifetime again each
 * time the member comes back. So a total only ever adds GROWTH, member by member, against what the member showed when
 * it was last seen.
 *
 * Contract (property-tested in test/unit/monotonic-sum.test.ts):
 * - a total never decreases;
 * - a member is known by its incarnation, a key the caller takes from the system (a Linux ifindex, a Windows NET_LUID,
 *   a VFP port name), never a name that can move to another member or change under the same one (a renamed
 *   interface keeps its ifindex);
 * - a member seen for the first time adds its whole value (its counters started at zero when it was created, or the
 *   collector starts after them: their past is counted once);
 * - a member that comes back after being absent, however many gatherings, as the same incarnation with counters not
 *   lower than last seen adds only its growth since it was last seen;
 * - with 64-bit counters, a member whose counter is lower than last seen is a new incarnation under the same key (a
 *   port recreated with the same id): all its counters count whole, once;
 * - with 32-bit counters (`counterBits: 32`), a lower value is a wrap at 2^32 and adds its real growth; growth is
 *   taken modulo 2^32, so it must stay below 2^32 between two readings.
 *
 * Memory: the last-seen values of absent members are what lets a returning member add only its growth, so they cannot
 * all be forgotten at once, nor kept forever. An absent member is forgotten when the caller says its incarnation no
 * longer exists (`stillExisting`: the ifindex left the system, the port left vfpctrl's list); without that knowledge
 * the `maxAbsentMembers` least recently seen are kept. The trade-off: a member forgotten while it still existed and
 * that comes back is counted whole again (a double count of its past), so callers that know existence pass it, and
 * the cap is only a bound against unbounded churn. Memory is O(present + min(absent-but-existing, cap)) vectors.
 */

/** What identifies one incarnation of a member: Linux ifindex, Windows NET_LUID, VFP port name, address family. */
export type Incarnation = string | number;

/**
 * One member's counters, by column (the same column in every member is summed into the same total). A column left
 * undefined or beyond the end was not read this time: it keeps its last-seen value and adds nothing.
 */
export type MemberCounters = readonly (number | undefined)[];

export interface MonotonicSumOptions {
  /**
   * Width of the members' counters. 64 (default): a counter never wraps, so a value lower than last seen means a new
   * incarnation. 32: a lower value is a wrap at 2^32 (e.g. Windows' MIB_TCPSTATS DWORDs).
   */
  readonly counterBits?: 32 | 64;
  /** At most this many absent members are remembered (least recently seen forgotten first). Default 1024. */
  readonly maxAbsentMembers?: number;
}

/** Default bound on remembered absent members: far above the pods one node runs at once. */
export const DEFAULT_MAX_ABSENT_MEMBERS = 1024;

const TWO_TO_32 = 2 ** 32;

/** Anything that can say whether an incarnation still exists: a Set of the incarnations listed this gathering. */
export interface IncarnationSet {
  has(incarnation: Incarnation): boolean;
}

/**
 * Never-decreasing totals, one per column, over members keyed by incarnation (the contract is at the top of this
 * file). Each member carries a vector of counters summed position by position: one map lookup per member however many
 * counters, which keeps a thousand pod interfaces of 16 counters cheap. Not shared between sources: each source
 * instance owns its sums.
 */
export class MonotonicSum {
  /** Last-seen counters per member, in order of last sighting (least recently seen first). */
  private readonly lastSeen = new Map<Incarnation, (number | undefined)[]>();
  private readonly totals: number[] = [];
  private readonly counterBits: 32 | 64;
  private readonly maxAbsentMembers: number;

  constructor(options: MonotonicSumOptions = {}) {
    this.counterBits = options.counterBits ?? 64;
    this.maxAbsentMembers = options.maxAbsentMembers ?? DEFAULT_MAX_ABSENT_MEMBERS;
  }

  /**
   * Takes this gathering's counters of the present members and returns the totals so far, one per column ever
   * reported (a column no present member reports keeps its total). `stillExisting`, when the caller knows it, holds
   * every incarnation that exists now, present in the sum or not (e.g. every ifindex of the system): absent members
   * outside it are forgotten at once.
   */
  update(present: ReadonlyMap<Incarnation, MemberCounters>, stillExisting?: IncarnationSet): readonly number[] {
    // Map.forEach, slice and index loops here: without TurboFan (--no-opt) for-of, spread and destructuring make an
    // iterator result per element, at every gathering.
    present.forEach((counters, member) => {
      const previous = this.lastSeen.get(member);
      this.lastSeen.delete(member);
      this.lastSeen.set(member, this.addGrowth(previous, counters));
    });
    this.forgetAbsent(present.size, stillExisting);
    return this.totals.slice();
  }

  /** How many members are remembered (present and absent): what the memory bound is about. */
  get rememberedMembers(): number {
    return this.lastSeen.size;
  }

  /** Adds one member's growth to the totals and returns its new last-seen counters. */
  private addGrowth(previous: (number | undefined)[] | undefined, counters: MemberCounters): (number | undefined)[] {
    while (this.totals.length < counters.length) this.totals.push(0);
    const restarted = previous === undefined || (this.counterBits === 64 && anyLower(previous, counters));
    const totals = this.totals;
    if (restarted) {
      for (let column = 0; column < counters.length; column++) {
        const value = counters[column];
        if (value !== undefined) totals[column]! += value;
      }
      return counters.slice();
    }
    const next = previous.slice();
    for (let column = 0; column < counters.length; column++) {
      const value = counters[column];
      if (value === undefined) continue;
      const before = previous[column];
      totals[column]! += before === undefined ? value : this.growth(before, value);
      next[column] = value;
    }
    return next;
  }

  private growth(before: number, now: number): number {
    if (this.counterBits === 64) return now - before;
    // Modulo 2^32: a wrap, or a 64-bit reading of a counter whose 32-bit reading came before (the same low bits).
    return (((now - before) % TWO_TO_32) + TWO_TO_32) % TWO_TO_32;
  }

  /**
   * Forgets the absent members whose incarnation no longer exists, then the least recently seen beyond the cap. The
   * present members were just moved to the end of `lastSeen`, so the absent ones are its first entries, least
   * recently seen first.
   */
  private forgetAbsent(presentCount: number, stillExisting: IncarnationSet | undefined): void {
    if (stillExisting) {
      const absent = [...this.lastSeen.keys()].slice(0, this.lastSeen.size - presentCount);
      for (const member of absent) if (!stillExisting.has(member)) this.lastSeen.delete(member);
    }
    let excess = this.lastSeen.size - presentCount - this.maxAbsentMembers;
    for (const member of this.lastSeen.keys()) {
      if (excess-- <= 0) break;
      this.lastSeen.delete(member);
    }
  }
}

function anyLower(previous: readonly (number | undefined)[], counters: MemberCounters): boolean {
  for (let column = 0; column < counters.length; column++) {
    const value = counters[column];
    const before = previous[column];
    if (value !== undefined && before !== undefined && value < before) return true;
  }
  return false;
}

/**
 * A MonotonicSum whose columns are named series (a drop reason and direction, a statistic name) that appear as members
 * report them: the Windows totals, whose series come from the keys a tool printed.
 */
export class MonotonicSumBySeries<S extends string = string> {
  private readonly sum: MonotonicSum;
  /** Series -> column, in order of first appearance. */
  private readonly columns = new Map<S, number>();

  constructor(options: MonotonicSumOptions = {}) {
    this.sum = new MonotonicSum(options);
  }

  /**
   * Takes each present member's value per series and returns the total of every series ever reported, in order of
   * first appearance (see MonotonicSum.update for `stillExisting`).
   */
  update(present: ReadonlyMap<Incarnation, ReadonlyMap<S, number>>, stillExisting?: IncarnationSet): Map<S, number> {
    const vectors = new Map<Incarnation, (number | undefined)[]>();
    for (const [member, values] of present) {
      const vector: (number | undefined)[] = [];
      for (const [series, value] of values) vector[this.columnOf(series)] = value;
      vectors.set(member, vector);
    }
    const totals = this.sum.update(vectors, stillExisting);
    return new Map([...this.columns].map(([series, column]) => [series, totals[column] ?? 0]));
  }

  get rememberedMembers(): number {
    return this.sum.rememberedMembers;
  }

  private columnOf(series: S): number {
    let column = this.columns.get(series);
    if (column === undefined) this.columns.set(series, (column = this.columns.size));
    return column;
  }
}

/** Adds `value` to `readings[member][series]` (a member reporting one series twice in a gathering is summed). */
export function addReading<S extends string>(
  readings: Map<Incarnation, Map<S, number>>,
  member: Incarnation,
  series: S,
  value: number,
): void {
  let values = readings.get(member);
  if (!values) readings.set(member, (values = new Map()));
  values.set(series, (values.get(series) ?? 0) + value);
}
