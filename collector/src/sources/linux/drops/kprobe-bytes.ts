/**
 * Dropped BYTES for every reason, where the kernel offers kprobe events with BTF arguments
 * (CONFIG_KPROBE_EVENTS + CONFIG_PROBE_EVENTS_BTF_ARGS, e.g. Azure Linux 3.0) AND hist triggers to sum them in the
 * kernel. The kfree_skb tracepoint has no length field, so we probe the function behind it and fetch `skb->len`:
 *
 *   p:kappie/kfree_skb_bytes sk_skb_reason_drop caller=$stack0:x64 len=skb->len:u32 reason=reason:u32 proto=skb->protocol:u16
 *   hist:keys=reason,caller.sym:vals=hitcount,len:size=4096 if proto != 0 && reason >= <first reason in the table>
 *
 * `$stack0` at function entry on x86_64 is the return address: the same "location" the tracepoint records, so the
 * bytes get the same direction tables. sk_skb_reason_drop (6.11+) took over from kfree_skb_reason (5.17-6.10).
 * Not on our CI kernel (no kprobe_events, no hist): definitions and parsing are tested on recorded formats.
 */
import { DIRECTION } from '../../../catalog';
import type { HistTable } from '../../../kernel/tracefs/hist';
import { dropDirection } from './locations';
import type { DropTally } from './tally';

export const KPROBE_GROUP = 'kappie';
export const KPROBE_EVENT = 'kfree_skb_bytes';

/** Functions that take (skb, reason) and free a dropped packet, newest first. */
export const KPROBE_TARGETS = ['sk_skb_reason_drop', 'kfree_skb_reason'] as const;

/**
 * Whether the tracefs README (the kernel's own help) documents what we need: kprobe events and BTF argument
 * access with struct fields (`<argname>[->field...]`). Detected from the running kernel, never from its version.
 */
export function kprobeBtfSupported(readme: string, hasKprobeEvents: boolean): boolean {
  return hasKprobeEvents && /<argname>\[->field/.test(readme);
}

export function kprobeDefinition(target: string): string {
  return `p:${KPROBE_GROUP}/${KPROBE_EVENT} ${target} caller=$stack0:x64 len=skb->len:u32 reason=reason:u32 proto=skb->protocol:u16`;
}

export function kprobeRemoval(): string {
  return `-:${KPROBE_GROUP}/${KPROBE_EVENT}`;
}

/**
 * The hist trigger on the kprobe. Reasons below the first named one (SKB_NOT_DROPPED_YET, SKB_CONSUMED) are not
 * drops: the tracepoint's own print table starts at the first real drop reason.
 */
export function kprobeHistTrigger(firstDropReason: number): string {
  return `hist:keys=reason,caller.sym:vals=hitcount,len:size=4096 if proto != 0 && reason >= ${firstDropReason}`;
}

/** Adds the bytes of a kprobe hist table (cumulative in the kernel) into a fresh tally. */
export function addKprobeBytes(table: HistTable, reasonNames: ReadonlyMap<number, string>, into: DropTally): void {
  for (const entry of table.entries) {
    const reasonKey = entry.keys['reason'];
    const callerKey = entry.keys['caller'];
    if (!reasonKey || !('number' in reasonKey)) continue;
    const reason = reasonNames.get(reasonKey.number) ?? `0x${reasonKey.number.toString(16)}`;
    const fn = callerKey && 'symbol' in callerKey ? callerKey.symbol : undefined;
    const direction = dropDirection(reason, fn) ?? DIRECTION.unknown;
    into.add(reason, direction, 0, entry.values['len'] ?? 0);
  }
}
