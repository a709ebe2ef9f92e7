/**
 * kappie_forward_count / kappie_forward_bytes{direction} from the uplinks' counters, shared by the Linux (`forward`)
 * and Windows (`windows_interfaces`) sources: one MonotonicSum over the uplinks, each uplink a member with four columns
 * (rx packets, rx bytes, tx packets, tx bytes), so an uplink leaving (a route change, an adapter going down) or coming back never makes
 * the totals fall or count its past twice.
 */
import { DIRECTION, LABEL } from '../catalog';
import { MonotonicSum, type Incarnation, type IncarnationSet } from '../monotonic-sum';
import type { Sample } from '../source';

/** An uplink's counters since it was created: packets and bytes received (ingress) and sent (egress). */
export interface UplinkCounters {
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
}

export interface ForwardSamples {
  readonly forwardCount: Sample<'forwardCount'>[];
  readonly forwardBytes: Sample<'forwardBytes'>[];
}

/** The sum over the uplinks. Absent uplinks are remembered up to the default cap: a node has a handful in its life. */
export function newForwardSums(): MonotonicSum {
  return new MonotonicSum();
}

/** An uplink as a member of the forward sum: its counters in column order. */
function uplinkColumns(counters: UplinkCounters): number[] {
  return [counters.rxPackets, counters.rxBytes, counters.txPackets, counters.txBytes];
}

/**
 * Adds this gathering's uplinks (incarnation -> counters, e.g. ifindex or NET_LUID) to `sums` and returns the
 * samples; `stillExisting` as in MonotonicSum.update. No uplink this time: no samples, rather than a total that reads
 * as "no traffic".
 */
export function forwardSamples(
  uplinks: ReadonlyMap<Incarnation, UplinkCounters>,
  sums: MonotonicSum,
  stillExisting?: IncarnationSet,
): ForwardSamples {
  if (uplinks.size === 0) return { forwardCount: [], forwardBytes: [] };
  const members = new Map([...uplinks].map(([incarnation, counters]) => [incarnation, uplinkColumns(counters)]));
  const [rxPackets, rxBytes, txPackets, txBytes] = sums.update(members, stillExisting);
  const ingress = { [LABEL.direction]: DIRECTION.ingress };
  const egress = { [LABEL.direction]: DIRECTION.egress };
  return {
    forwardCount: [
      { labels: ingress, value: rxPackets! },
      { labels: egress, value: txPackets! },
    ],
    forwardBytes: [
      { labels: ingress, value: rxBytes! },
      { labels: egress, value: txBytes! },
    ],
  };
}
