/**
 * Turns streamed trace_pipe lines into drop totals (pure apart from the tally it fills): parses each line, names the
 * reason (printed by the kernel, or derived from the location on kernels without the field), decides the direction,
 * and holds a netfilter drop back until the kernel stack that follows it says which path it died on.
 */
import { DIRECTION, type Direction } from '../../../catalog';
import { ParseError } from '../../../errors';
import type { KernelSymbols } from '../../../kernel/kallsyms';
import { parseTraceLine, type DropLocation } from '../../../kernel/tracefs/kfree-skb-event';
import { derivedReason, dropDirection, NETFILTER_FUNCTIONS, stackDirection } from './locations';
import type { DropTally } from './tally';

export interface StreamOptions {
  /** Reasons the tracepoint must not count (SKB_CONSUMED, SKB_NOT_DROPPED_YET), as printed. */
  readonly ignoredReasons: ReadonlySet<string>;
  /** Whether a `stacktrace` trigger follows netfilter drops (then they wait for their stack). */
  readonly netfilterStacks: boolean;
  /** For address locations (5.15 with hash-ptr off). */
  readonly symbols: KernelSymbols | undefined;
}

/** Classification of one (location, reason) pair; cached because a node has few distinct drop sites. */
interface Classified {
  readonly reason: string;
  readonly direction: Direction | undefined;
  readonly netfilter: boolean;
}

const CACHE_LIMIT = 8192;

export class DropStream {
  private readonly cache = new Map<string, Classified>();
  /** A netfilter drop per CPU waiting for its stack, with the settle generation it was read in. */
  private readonly pending = new Map<number, { classified: Classified; generation: number }>();
  private generation = 0;
  private netfilterStacks: boolean;
  private stack: { cpu: number; frames: string[] } | undefined;
  /** Lines that could not be parsed: counted as lost events. */
  parseErrors = 0;
  lastParseError: string | undefined;
  events = 0;
  /** Netfilter drops read so far (the source switches stacks off when they storm). */
  netfilterEvents = 0;

  constructor(
    private readonly tally: DropTally,
    private readonly options: StreamOptions,
  ) {
    this.netfilterStacks = options.netfilterStacks;
  }

  /** Whether stacks follow netfilter drops from now on (switched off in storms). */
  setNetfilterStacks(on: boolean): void {
    this.netfilterStacks = on;
  }

  /**
   * Called after each read: a held drop whose stack did not come by the read after it never gets one (the kernel
   * writes the stack right after the event), so it is counted with direction unknown.
   */
  settle(): void {
    for (const [cpu, held] of [...this.pending]) {
      if (held.generation < this.generation) {
        this.pending.delete(cpu);
        this.tally.add(held.classified.reason, DIRECTION.unknown);
      }
    }
    this.generation += 1;
  }

  private functionOf(location: DropLocation): string | undefined {
    if (location.kind === 'symbol') return location.fn;
    return this.options.symbols?.functionAt(location.address);
  }

  private classify(location: DropLocation, reasonText: string | undefined, key: string): Classified {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const fn = this.functionOf(location);
    const reason = reasonText ?? derivedReason(fn);
    const netfilter = reason === 'NETFILTER_DROP' || (fn !== undefined && NETFILTER_FUNCTIONS.has(fn));
    const classified = { reason, direction: dropDirection(reason, fn), netfilter };
    if (this.cache.size < CACHE_LIMIT) this.cache.set(key, classified);
    return classified;
  }

  private finishStack(): void {
    if (!this.stack) return;
    const held = this.pending.get(this.stack.cpu);
    if (held) {
      this.pending.delete(this.stack.cpu);
      this.tally.add(held.classified.reason, stackDirection(this.stack.frames) ?? DIRECTION.unknown);
    }
    this.stack = undefined;
  }

  private flushPending(cpu: number): void {
    const held = this.pending.get(cpu);
    if (held) {
      this.pending.delete(cpu);
      this.tally.add(held.classified.reason, DIRECTION.unknown);
    }
  }

  push(lines: readonly string[]): void {
    for (const line of lines) {
      let parsed;
      try {
        parsed = parseTraceLine(line);
      } catch (error) {
        this.parseErrors += 1;
        this.lastParseError = error instanceof ParseError ? error.message : String(error);
        continue;
      }
      if (parsed.kind === 'frame') {
        this.stack?.frames.push(parsed.fn);
        continue;
      }
      this.finishStack();
      if (parsed.kind === 'stack') {
        this.stack = { cpu: parsed.cpu, frames: [] };
      } else if (parsed.kind === 'drop') {
        if (parsed.reason !== undefined && this.options.ignoredReasons.has(parsed.reason)) continue;
        this.events += 1;
        const key =
          parsed.location.kind === 'symbol'
            ? `${parsed.location.fn}|${parsed.reason ?? ''}`
            : `${parsed.location.address}|${parsed.reason ?? ''}`;
        const classified = this.classify(parsed.location, parsed.reason, key);
        this.flushPending(parsed.cpu);
        if (classified.netfilter) this.netfilterEvents += 1;
        if (classified.direction === undefined && classified.netfilter && this.netfilterStacks) {
          this.pending.set(parsed.cpu, { classified, generation: this.generation });
        } else {
          this.tally.add(classified.reason, classified.direction ?? DIRECTION.unknown);
        }
      }
    }
    // trace_pipe hands out whole entries, and a stack is one entry: a stack open at the end of a read is complete.
    this.finishStack();
  }

  /** Counts every held drop now (at stop, so nothing read is left uncounted). */
  flushAll(): void {
    this.finishStack();
    for (const cpu of [...this.pending.keys()]) this.flushPending(cpu);
  }
}
