/**
 * Drop totals by (reason, direction), accumulated between scrapes with bounded memory: at most `maxSeries` distinct
 * pairs; drops of any further pair are added to one overflow series (reason `OTHER`) so they are counted, never lost,
 * and the label set stays bounded during a storm of unusual reasons. Totals only grow (they are exported as counters).
 */
import { DIRECTION, LABEL, type Direction } from '../../../catalog';
import type { Sample } from '../../../source';

/** Reason label of the series that sums pairs beyond the cap. */
export const OVERFLOW_REASON = 'OTHER';

/** ~130 kernel reasons x 3 directions fit; the cap only bites on kernels with many runtime-registered reasons. */
export const DEFAULT_MAX_SERIES = 400;

export class DropTally {
  private readonly counts = new Map<string, { reason: string; direction: Direction; packets: number; bytes: number }>();

  constructor(private readonly maxSeries = DEFAULT_MAX_SERIES) {}

  add(reason: string, direction: Direction, packets = 1, bytes = 0): void {
    let key = `${reason}\u0000${direction}`;
    let entry = this.counts.get(key);
    if (!entry) {
      if (this.counts.size >= this.maxSeries - 3) {
        // The last slots are kept for the overflow series of each direction.
        reason = OVERFLOW_REASON;
        key = `${reason}\u0000${direction}`;
        entry = this.counts.get(key);
      }
      if (!entry) {
        entry = { reason, direction, packets: 0, bytes: 0 };
        this.counts.set(key, entry);
      }
    }
    entry.packets += packets;
    entry.bytes += bytes;
  }

  get size(): number {
    return this.counts.size;
  }

  packets(reason: string, direction: Direction = DIRECTION.unknown): number {
    return this.counts.get(`${reason}\u0000${direction}`)?.packets ?? 0;
  }

  total(): number {
    let sum = 0;
    for (const entry of this.counts.values()) sum += entry.packets;
    return sum;
  }

  countSamples(): Sample<'dropCount'>[] {
    return [...this.counts.values()].map((e) => ({
      labels: { [LABEL.reason]: e.reason, [LABEL.direction]: e.direction },
      value: e.packets,
    }));
  }

  /** Byte series only for pairs whose bytes some facility counted. */
  byteSamples(): Sample<'dropBytes'>[] {
    return [...this.counts.values()]
      .filter((e) => e.bytes > 0)
      .map((e) => ({ labels: { [LABEL.reason]: e.reason, [LABEL.direction]: e.direction }, value: e.bytes }));
  }
}
