/**
 * Dropped BYTES for every reason, where the kernel offers kprobe events (CONFIG_KPROBE_EVENTS) AND hist triggers to
 * sum them in the kernel. The kfree_skb tracepoint has no length field, so we probe the function behind it and fetch
 * `skb->len`, by name where kprobe events take BTF arguments (CONFIG_PROBE_EVENTS_BTF_ARGS, e.g. Azure Linux 3.0,
 * Debian's 6.12), else at the offset the kernel's BTF gives (kprobe-args.ts; e.g. Debian's 6.1, Ubuntu 22.04's 5.15):
 *
 *   p:kappie/kfree_skb_bytes sk_skb_reason_drop caller=$stack0:x64 skb=skb:x64 len=skb->len:u32 reason=reason:u32
 *     proto=skb->protocol:u16 users=skb->users.refs.counter:u32
 *   p:kappie/kfree_skb_bytes kfree_skb_reason caller=$stack0:x64 skb=$arg1:x64 len=+112($arg1):u32 reason=$arg2:u32
 *     proto=+180($arg1):u16 users=+220($arg1):u32
 *   hist:keys=reason,caller.sym:vals=hitcount,len:size=4096 if skb != 0 && users == 1 && proto != 0 && reason >= <first>
 *
 * `$stack0` at function entry on x86_64 is the return address: the same "location" the tracepoint records, so the
 * bytes get the same direction tables. sk_skb_reason_drop (6.11+) took over from kfree_skb_reason (5.17-6.10); on
 * kernels without drop reasons (5.15) kfree_skb(skb) itself is probed and the reason is derived from the caller.
 * Not on our CI kernel (no kprobe_events, no hist): run on Debian's 6.1 and 6.12 under qemu (kernels/).
 */
import { DIRECTION } from '../../../catalog';
import type { HistTable } from '../../../kernel/tracefs/hist';
import { BTF_NAME_FETCH, type KprobeFetch } from './kprobe-args';
import { reasonName } from './kfree-skb';
import { derivedReason, dropDirection } from './locations';
import type { DropTally } from './tally';

export const KPROBE_GROUP = 'kappie';
export const KPROBE_EVENT = 'kfree_skb_bytes';

/** Functions that take (skb, reason) and free a dropped packet, newest first. */
export const KPROBE_TARGETS = ['sk_skb_reason_drop', 'kfree_skb_reason'] as const;
/** Kernels without drop reasons (5.15): kfree_skb(skb) is the function behind the tracepoint. */
export const KPROBE_TARGETS_WITHOUT_REASON = ['kfree_skb'] as const;

/** The kprobe_events line; `fetch` says how the arguments are reached (by BTF name unless given). */
export function kprobeDefinition(target: string, fetch: KprobeFetch = BTF_NAME_FETCH): string {
  const reason = fetch.reason === undefined ? '' : ` reason=${fetch.reason}`;
  return `p:${KPROBE_GROUP}/${KPROBE_EVENT} ${target} caller=$stack0:x64 skb=${fetch.skb} len=${fetch.len}${reason} proto=${fetch.protocol} users=${fetch.users}`;
}

export function kprobeRemoval(): string {
  return `-:${KPROBE_GROUP}/${KPROBE_EVENT}`;
}

/**
 * The hist trigger on the kprobe. Reasons below the first named one (SKB_NOT_DROPPED_YET, SKB_CONSUMED) are not
 * drops: the tracepoint's own print table starts at the first real drop reason. Without reasons (5.15:
 * `firstDropReason` undefined) the caller alone is the key, as the tracepoint's location is there.
 *
 * The probe fires on every call, the tracepoint only for a real skb whose last reference goes: kfree_skb(NULL) is
 * legal and frequent (unix stream reads on 6.1), and a field fetched through NULL is not zeroed but keeps the
 * previous event's value under a hist trigger (measured: ~500 KB of stale lengths on 6.1 before this filter); a
 * call with `users > 1` only drops a reference. `skb != 0 && users == 1` keeps exactly the drops the tracepoint
 * counts (checked entry by entry on Debian 6.1 and 6.12, kernels/).
 */
export function kprobeHistTrigger(firstDropReason: number | undefined): string {
  const filter = 'skb != 0 && users == 1 && proto != 0';
  if (firstDropReason === undefined) return `hist:keys=caller.sym:vals=hitcount,len:size=4096 if ${filter}`;
  return `hist:keys=reason,caller.sym:vals=hitcount,len:size=4096 if ${filter} && reason >= ${firstDropReason}`;
}

/**
 * Adds the bytes of a kprobe hist table (cumulative in the kernel) into a fresh tally. Without a reason table
 * (`reasonNames` undefined: 5.15), the reason is derived from the caller, as it is for the counts.
 */
export function addKprobeBytes(
  table: HistTable,
  reasonNames: ReadonlyMap<number, string> | undefined,
  into: DropTally,
): void {
  for (const entry of table.entries) {
    const reasonKey = entry.keys['reason'];
    const callerKey = entry.keys['caller'];
    const fn = callerKey && 'symbol' in callerKey ? callerKey.symbol : undefined;
    let reason: string;
    if (reasonNames === undefined) reason = derivedReason(fn);
    else if (reasonKey && 'number' in reasonKey) reason = reasonName(reasonNames, reasonKey.number);
    else continue;
    const direction = dropDirection(reason, fn) ?? DIRECTION.unknown;
    into.add(reason, direction, 0, entry.values['len'] ?? 0);
  }
}
