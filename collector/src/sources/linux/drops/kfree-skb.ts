/**
 * What the drop source knows about the skb:kfree_skb tracepoint, shared by its hist and stream modes: where the event
 * lives, which of its reasons are not drops, the in-kernel filter, and how a reason number is named.
 */
import type { EventFormat } from '../../../kernel/tracefs/format';

/** The event, relative to an `events/` directory. */
export const KFREE_SKB_EVENT = 'skb/kfree_skb';

/** Reasons the tracepoint can carry that are not drops (names differ between kernels). */
export const NOT_DROPS: ReadonlySet<string> = new Set([
  'NOT_DROPPED_YET',
  'SKB_NOT_DROPPED_YET',
  'CONSUMED',
  'SKB_CONSUMED',
]);

/** The reason table of the running kernel (number -> name), absent on kernels without the field (5.15). */
export function reasonNames(format: EventFormat): ReadonlyMap<number, string> | undefined {
  return format.symbols.get('reason');
}

/** The name of a reason number: the kernel's, or the number in hex when its table lacks it (bounded, recognisable). */
export function reasonName(names: ReadonlyMap<number, string> | undefined, value: number): string {
  return names?.get(value) ?? `0x${value.toString(16)}`;
}

/** The in-kernel filter: no frees of packets without a protocol (unix, netlink), no reasons that are not drops. */
export function kfreeSkbFilter(format: EventFormat): string {
  const clauses = ['protocol != 0'];
  for (const [value, name] of reasonNames(format) ?? []) if (NOT_DROPS.has(name)) clauses.push(`reason != ${value}`);
  return clauses.join(' && ');
}

/** The lowest reason number that is a drop, or undefined on kernels without reasons. */
export function firstDropReason(format: EventFormat): number | undefined {
  const drops = [...(reasonNames(format) ?? [])].filter(([, name]) => !NOT_DROPS.has(name)).map(([value]) => value);
  return drops.length === 0 ? undefined : Math.min(...drops);
}
