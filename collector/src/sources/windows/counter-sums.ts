/**
 * Node totals built from counters Windows keeps per member (per VFP port, per virtual adapter, per address family).
 *
 * Summing the raw values of this gathering would not make a counter: when a pod goes away its port and its counts
 * vanish, and the node "total" would fall, which Prometheus reads as a reset and turns into a bogus rate. And
 * Windows' 32-bit statistics (MIB_TCPSTATS) wrap at 2^32. So each node total is kept as a running sum of the
 * increases of its members: a member seen for the first time adds its whole value (it counted from zero since it was
 * created, or since boot when the collector starts), a member that disappears keeps what it added, and a member whose
 * value went down either wrapped (32-bit counters) or was recreated under the same id (its new value is all new).
 * Memory is bounded: members gone for FORGET_AFTER_GATHERINGS gatherings are forgotten.
 * The result only ever grows, and equals the plain sum as long as no member disappeared or wrapped.
 */

/** How a decrease of a member's raw value is read. */
export type DecreaseMeaning =
  /** A 32-bit counter went past 2^32 - 1 and started again from 0. */
  | 'wrap32'
  /** The member was recreated (a port with the same id): its whole new value is new. */
  | 'restart';

const TWO_TO_32 = 2 ** 32;

/**
 * Gatherings a member may be missing before it is forgotten. A member missing from one gathering (a query that
 * failed, a port listed a moment late) is still known when it comes back, so only its increase is added, not its
 * whole value again; a member gone for good (a deleted pod's port) is dropped after this many gatherings.
 */
export const FORGET_AFTER_GATHERINGS = 10;

interface MemberState {
  raw: number;
  /** The gathering that last reported the member. */
  seenAt: number;
}

interface SeriesState {
  total: number;
  members: Map<string, MemberState>;
}

export class MonotonicSums {
  private readonly series = new Map<string, SeriesState>();
  private gathering = 0;

  constructor(private readonly onDecrease: DecreaseMeaning) {}

  /**
   * Takes this gathering's raw values, `readings.get(seriesKey).get(member)`, and returns the node total of every
   * series ever seen (a series with no member this time keeps its total, so it does not vanish and come back).
   */
  update(readings: ReadonlyMap<string, ReadonlyMap<string, number>>): Map<string, number> {
    this.gathering++;
    for (const [key, members] of readings) {
      let state = this.series.get(key);
      if (!state) {
        state = { total: 0, members: new Map() };
        this.series.set(key, state);
      }
      for (const [member, raw] of members) {
        const previous = state.members.get(member);
        if (previous === undefined) {
          state.total += raw;
          state.members.set(member, { raw, seenAt: this.gathering });
        } else {
          state.total += this.increase(previous.raw, raw);
          previous.raw = raw;
          previous.seenAt = this.gathering;
        }
      }
    }
    for (const state of this.series.values()) {
      for (const [member, { seenAt }] of state.members) {
        if (this.gathering - seenAt > FORGET_AFTER_GATHERINGS) state.members.delete(member);
      }
    }
    return new Map([...this.series].map(([key, state]) => [key, state.total]));
  }

  private increase(previous: number, raw: number): number {
    if (raw >= previous) return raw - previous;
    return this.onDecrease === 'wrap32' ? raw + TWO_TO_32 - previous : raw;
  }
}

/** Adds `value` to `readings[series][member]` (members reported twice in one gathering are summed). */
export function addReading(
  readings: Map<string, Map<string, number>>,
  series: string,
  member: string,
  value: number,
): void {
  let members = readings.get(series);
  if (!members) readings.set(series, (members = new Map()));
  members.set(member, (members.get(member) ?? 0) + value);
}
