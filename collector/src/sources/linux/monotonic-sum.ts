/**
 * Sums of kernel counters over a set of members that changes (pod veths come and go, uplinks move) that must still
 * be counters: never decreasing while the collector runs.
 *
 * A plain sum falls when a member disappears (a deleted veth takes its counts with it), and Prometheus' rate() reads
 * any fall as a counter reset and adds the whole new value: one deleted pod would show as a burst of the node's
 * entire pod traffic. So the sums only ever add growth: each member's increase since the previous update, and the
 * whole value of a member seen for the first time (its counters started at zero when it was created). A member whose
 * value went down was recreated under the same name, and also counts from zero.
 *
 * Each member carries a vector of `width` counters (e.g. the 16 of /proc/net/dev), summed position by position: one
 * map lookup per member however many counters, which keeps 1000 pod interfaces cheap.
 */
export class MonotonicSum {
  private last = new Map<string, readonly number[]>();
  private readonly totals: number[];

  constructor(readonly width: number) {
    this.totals = new Array<number>(width).fill(0);
  }

  /**
   * Takes the current counters of every present member (arrays of `width`, kept until the next update: do not change
   * them) and returns the sums so far. Absent members are forgotten.
   */
  update(members: ReadonlyMap<string, readonly number[]>): readonly number[] {
    for (const [member, values] of members) {
      const previous = this.last.get(member);
      const recreated = previous === undefined || previous.some((before, i) => values[i]! < before);
      for (let i = 0; i < this.width; i++) {
        this.totals[i]! += recreated ? values[i]! : values[i]! - previous[i]!;
      }
    }
    // The new members are exactly the present ones; no need to delete the absent ones one by one.
    this.last = new Map(members);
    return [...this.totals];
  }
}
