/**
 * A sum of kernel counters over a set of members that changes (pod veths come and go, uplinks move) and must still
 * be a counter: never decreasing while the collector runs.
 *
 * A plain sum falls when a member disappears (a deleted veth takes its counts with it), and Prometheus' rate() reads
 * any fall as a counter reset and adds the whole new value: one deleted pod would show as a burst of the node's
 * entire pod traffic. So the sum only ever adds growth: each member's increase since the previous update, and the
 * whole value of a member seen for the first time (its counters started at zero when it was created). A member whose
 * value went down was recreated under the same name, and also counts from zero.
 */
export class MonotonicSum {
  private readonly last = new Map<string, number>();
  private total = 0;

  /** Takes the current value of every present member and returns the sum so far. Absent members are forgotten. */
  update(members: ReadonlyMap<string, number>): number {
    for (const [member, value] of members) {
      const previous = this.last.get(member);
      this.total += previous === undefined || value < previous ? value : value - previous;
      this.last.set(member, value);
    }
    for (const member of this.last.keys()) {
      if (!members.has(member)) this.last.delete(member);
    }
    return this.total;
  }
}
