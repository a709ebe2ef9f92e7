/**
 * The contract between the tracefs events strategy and its two ways of counting kfree_skb drops in our instance:
 * hist (the kernel counts, we read its table) and stream (we read every event from trace_pipe).
 */
import type { Logger } from 'pino';
import type { KernelSymbols } from '../../../kernel/kallsyms';
import type { EventFormat } from '../../../kernel/tracefs/format';
import type { Tracefs } from '../../../kernel/tracefs/tracefs';
import type { Samples } from '../../../source';

/** What a mode is started with: the instance is created and empty. */
export interface EventsModeSetup {
  readonly tracefs: Tracefs;
  /** Our instance, relative to the mount (`instances/kappie`). */
  readonly instance: string;
  /** The running kernel's kfree_skb format (reason table, fields). */
  readonly format: EventFormat;
  /** Whether the event has the `reason` field (5.17+); without it reasons are derived from the location. */
  readonly hasReason: boolean;
  /** The in-kernel filter (kfreeSkbFilter). */
  readonly filter: string;
  /** Kernel symbols, for kernels that print the location as an address (5.15); undefined otherwise. */
  readonly symbols: KernelSymbols | undefined;
  readonly log: Logger;
}

/** A running way of counting; its totals only grow while it runs. */
export interface EventsMode {
  readonly mode: 'hist' | 'stream';
  /** Whether kappie_drop_bytes is counted (a kprobe summing skb->len, hist mode only). */
  readonly countsBytes: boolean;
  /** kappie_drop_count (and kappie_drop_bytes when counted) since start. Throws when its kernel state is gone. */
  collect(): Samples;
  /** Events not counted, as of the last collect (ring buffer overruns, full hist tables, unreadable lines). */
  lostEvents(): number;
  /** A partial-counting remark for the status page, or undefined. */
  note(): string | undefined;
  /** Events parsed from trace_pipe so far (stream mode; 0 in hist mode), for tests and the benchmark. */
  streamedEvents(): number;
  /** Stops what runs in this process (poll timer, open pipe). The kernel state goes away with the instance. */
  close(): void;
}
