/**
 * Turns the binary ring-buffer pages of trace_pipe_raw into drop totals, with the same meaning as the text decoder
 * (stream-decoder.ts): the reason named through the running kernel's reason table (or derived from the location on
 * kernels without the field), the direction from the reason, the function, or for netfilter drops the kernel stack
 * record that follows them on the same CPU. Pure apart from the tally it fills.
 *
 * Why it is cheaper: the kernel formats nothing (trace_pipe prints ~150 bytes of text per drop inside our read), a
 * record is ~44 bytes so one read returns ~90 drops, and a drop is three integer reads plus, in a storm, one compare
 * with the previous drop's (location, reason) before its tally entry is incremented.
 *
 * The location is a raw kernel address in the record (hashing is a printing option), so functions are named through
 * kallsyms (`symbols`, the names this decoder needs: `keepPathFunction`).
 */
import { DIRECTION, type Direction } from '../../../catalog';
import { ParseError } from '../../../errors';
import type { KernelSymbols } from '../../../kernel/kallsyms';
import type { KernelStackRecordLayout, KfreeSkbRecordLayout } from '../../../kernel/tracefs/binary-records';
import { decodePage, type PageLayout } from '../../../kernel/tracefs/ring-buffer-page';
import { reasonName } from './kfree-skb';
import { derivedReason, dropDirection, functionDirection, NETFILTER_FUNCTIONS, stackDirection } from './locations';
import type { DropTally, TallyEntry } from './tally';

export interface RawStreamLayouts {
  readonly page: PageLayout;
  readonly drop: KfreeSkbRecordLayout;
  /** Absent when stacks are never recorded (no netfilter condition): stack records then count as unreadable. */
  readonly stack: KernelStackRecordLayout | undefined;
}

export interface RawStreamOptions {
  /** The kernel's reason table (number -> name); undefined on kernels without the field. */
  readonly reasonNames: ReadonlyMap<number, string> | undefined;
  /** Reasons the tracepoint must not count (SKB_CONSUMED, SKB_NOT_DROPPED_YET), as named. */
  readonly ignoredReasons: ReadonlySet<string>;
  /** Whether a `stacktrace` trigger follows netfilter drops (then they wait for their stack). */
  readonly netfilterStacks: boolean;
  /** Kernel text symbols with at least the names `keepPathFunction` keeps. */
  readonly symbols: KernelSymbols;
}

/**
 * The function names the raw decoder needs from kallsyms: those that decide a direction, a derived reason, or mark a
 * netfilter drop. Others read as unnamed, which classifies exactly as a name no table knows.
 */
export function keepPathFunction(name: string): boolean {
  return (
    NETFILTER_FUNCTIONS.has(name) ||
    functionDirection(name) !== undefined ||
    derivedReason(name) !== 'NOT_SPECIFIED' ||
    name.startsWith('br_nf_')
  );
}

/** Classification of one (location, reason) pair; cached, because a node has few distinct drop sites. */
interface Classified {
  readonly reason: string;
  readonly direction: Direction | undefined;
  readonly netfilter: boolean;
  /** The tally entry for (reason, direction or unknown), fetched at the first drop so no series is born at 0. */
  entry: TallyEntry | undefined;
}

const CACHE_LIMIT = 8192;
const IGNORED = 'ignored';

export class RawDropStream {
  private readonly cache = new Map<string, Classified | typeof IGNORED>();
  private readonly frameNames = new Map<string, string>();
  /** A netfilter drop per CPU waiting for its stack, with the settle generation it was read in. */
  private readonly pending = new Map<number, { classified: Classified; generation: number }>();
  private generation = 0;
  private netfilterStacks: boolean;
  /** The last (location, reason) seen and its classification: the storm fast path. */
  private lastHigh = -1;
  private lastLow = -1;
  private lastReason = -1;
  private lastClassified: Classified | typeof IGNORED | undefined;
  private page: Buffer = Buffer.alloc(0);
  private cpu = 0;
  /** Records or pages that could not be decoded: counted as lost events. */
  parseErrors = 0;
  lastParseError: string | undefined;
  events = 0;
  /** Netfilter drops read so far (the source switches stacks off when they storm). */
  netfilterEvents = 0;

  constructor(
    private readonly tally: DropTally,
    private readonly layouts: RawStreamLayouts,
    private readonly options: RawStreamOptions,
  ) {
    this.netfilterStacks = options.netfilterStacks;
  }

  /** Whether stacks follow netfilter drops from now on (switched off in storms). */
  setNetfilterStacks(on: boolean): void {
    this.netfilterStacks = on;
  }

  /**
   * Decodes one page read from CPU `cpu`'s trace_pipe_raw (`page[0, length)`). A page the decoder cannot read counts
   * as one unreadable event (its records up to the fault are counted).
   */
  pushPage(page: Buffer, length: number, cpu: number): void {
    this.page = page;
    this.cpu = cpu;
    try {
      decodePage(page, length, this.layouts.page, this.visit);
    } catch (error) {
      this.unreadable(error instanceof ParseError ? error.message : String(error));
    }
  }

  /**
   * Called after each drain: a held drop whose stack did not come by the drain after it never gets one (the kernel
   * writes the stack right after the event), so it is counted with direction unknown.
   */
  settle(): void {
    for (const [cpu, held] of [...this.pending]) {
      if (held.generation < this.generation) {
        this.pending.delete(cpu);
        this.count(held.classified, DIRECTION.unknown);
      }
    }
    this.generation += 1;
  }

  /** Counts every held drop now (at stop, so nothing read is left uncounted). */
  flushAll(): void {
    for (const cpu of [...this.pending.keys()]) this.flushPending(cpu);
  }

  private unreadable(message: string): void {
    this.parseErrors += 1;
    this.lastParseError = message;
  }

  private readonly visit = (offset: number, length: number): void => {
    const page = this.page;
    const type = page.readUInt16LE(offset);
    if (type === this.layouts.drop.id) this.drop(offset, length);
    else if (this.layouts.stack !== undefined && type === this.layouts.stack.id) this.stack(offset, length);
    else this.unreadable(`record of event id ${type} is neither kfree_skb nor kernel_stack`);
  };

  private drop(offset: number, length: number): void {
    const { drop } = this.layouts;
    if (length < drop.minLength) {
      this.unreadable(`kfree_skb record of ${length} bytes, the format needs ${drop.minLength}`);
      return;
    }
    const page = this.page;
    const locationAt = offset + drop.location.offset;
    const low = page.readUInt32LE(locationAt);
    const high = drop.location.size === 8 ? page.readUInt32LE(locationAt + 4) : 0;
    const reason = drop.reason ? page.readUInt32LE(offset + drop.reason.offset) : 0;
    let classified = this.lastClassified;
    if (classified === undefined || low !== this.lastLow || high !== this.lastHigh || reason !== this.lastReason) {
      classified = this.classify(high, low, reason);
      this.lastHigh = high;
      this.lastLow = low;
      this.lastReason = reason;
      this.lastClassified = classified;
    }
    if (classified === IGNORED) return;
    this.events += 1;
    if (this.pending.size > 0) this.flushPending(this.cpu);
    if (classified.netfilter) this.netfilterEvents += 1;
    if (classified.direction === undefined && classified.netfilter && this.netfilterStacks) {
      this.pending.set(this.cpu, { classified, generation: this.generation });
    } else {
      classified.entry ??= this.tally.entry(classified.reason, classified.direction ?? DIRECTION.unknown);
      classified.entry.packets += 1;
    }
  }

  private classify(high: number, low: number, reasonValue: number): Classified | typeof IGNORED {
    const key = `${high}:${low}:${reasonValue}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const fn = this.options.symbols.functionAtWords(high, low);
    const named = this.layouts.drop.reason ? reasonName(this.options.reasonNames, reasonValue) : undefined;
    let classified: Classified | typeof IGNORED;
    if (named !== undefined && this.options.ignoredReasons.has(named)) {
      classified = IGNORED;
    } else {
      const reason = named ?? derivedReason(fn);
      const netfilter = reason === 'NETFILTER_DROP' || (fn !== undefined && NETFILTER_FUNCTIONS.has(fn));
      classified = { reason, direction: dropDirection(reason, fn), netfilter, entry: undefined };
    }
    if (this.cache.size < CACHE_LIMIT) this.cache.set(key, classified);
    return classified;
  }

  private stack(offset: number, length: number): void {
    const layout = this.layouts.stack!;
    const held = this.pending.get(this.cpu);
    if (held === undefined) return;
    this.pending.delete(this.cpu);
    const page = this.page;
    if (length < layout.size.offset + 4) {
      this.unreadable(`kernel_stack record of ${length} bytes has no size field`);
      this.count(held.classified, DIRECTION.unknown);
      return;
    }
    const declared = page.readInt32LE(offset + layout.size.offset);
    const room = Math.floor((length - layout.callerOffset) / layout.callerSize);
    const frames: string[] = [];
    for (let i = 0; i < Math.min(declared, room); i += 1) {
      const at = offset + layout.callerOffset + i * layout.callerSize;
      const low = page.readUInt32LE(at);
      const high = layout.callerSize === 8 ? page.readUInt32LE(at + 4) : 0;
      // Older kernels end a short stack with ULONG_MAX.
      if ((low === 0 && high === 0) || (low === 0xffffffff && (high === 0xffffffff || layout.callerSize === 4))) break;
      frames.push(this.frameName(high, low));
    }
    this.count(held.classified, stackDirection(frames) ?? DIRECTION.unknown);
  }

  private frameName(high: number, low: number): string {
    const key = `${high}:${low}`;
    let name = this.frameNames.get(key);
    if (name === undefined) {
      // Frames the kernel cannot name, or names no table knows, name no path.
      name = this.options.symbols.functionAtWords(high, low) ?? '';
      if (this.frameNames.size < CACHE_LIMIT) this.frameNames.set(key, name);
    }
    return name;
  }

  private count(classified: Classified, direction: Direction): void {
    this.tally.add(classified.reason, direction);
  }

  private flushPending(cpu: number): void {
    const held = this.pending.get(cpu);
    if (held) {
      this.pending.delete(cpu);
      this.count(held.classified, DIRECTION.unknown);
    }
  }
}
