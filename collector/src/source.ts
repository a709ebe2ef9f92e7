/**
 * What a source is: one facility of the OS (a procfs file, tracefs, nftables, an iphlpapi table) turned into samples
 * of catalog metrics. Sources do thin I/O and hand the text or bytes to a pure parser; they never format output.
 */
import type { Logger } from 'pino';
import type { METRICS, MetricKey, Platform } from './catalog';
import type { CollectorConfig } from './config';
import type { HostFs } from './kernel/host-fs';

/** The label names the catalog declares for metric K (node_name and cluster excluded: the exposition adds them). */
export type LabelsOf<K extends MetricKey> = (typeof METRICS)[K]['labels'][number];

/**
 * One series of metric K: a value for exactly K's catalog labels. A label the catalog does not declare for K, or a
 * missing one, is a compile-time error (and the gatherer drops such a sample at run time, with a logged reason).
 * Without K it is the union over every metric (a sample of some metric), distributed so each member keeps its labels.
 */
export type Sample<K extends MetricKey = MetricKey> = K extends MetricKey
  ? { readonly labels: { readonly [L in LabelsOf<K>]: string }; readonly value: number }
  : never;

/** A sample of any metric seen from outside (display, tests): its labels by name. Every Sample is one. */
export type SampleView = { readonly labels: Readonly<Record<string, string>>; readonly value: number };

/** What one gathering of a source produced, per catalog metric. A metric a source did not fill is absent. */
export type Samples = { [K in MetricKey]?: Sample<K>[] };

export interface SourceContext {
  readonly config: CollectorConfig;
  /** Reads under --proc-path and --sys-path (so containers can point at /host/proc, /host/sys). */
  readonly fs: HostFs;
  /** The gatherer's logger for this source: every line carries `source: <name>`. */
  readonly log: Logger;
  /**
   * True for one-shot commands (`kappie snapshot`, e.g. through kubectl exec next to a serving collector). A source
   * that installs kernel state may then only use what a serving collector installed, never replace or remove it
   * (tcp_flags does so with its nft table). Absent or false: the collector keeps running and owns that state.
   */
  readonly oneShot?: boolean;
  /**
   * One-shot commands only: the drops source counts tracefs events in config.tracefsInstance, an instance the command
   * named for itself (`kappie snapshot` alone counting for --duration: `<instance>-snapshot`), never a serving
   * collector's. Absent or false: a one-shot gathering reads the kernel drop counters and never touches tracefs.
   */
  readonly oneShotEvents?: boolean;
  /**
   * Reads shared by the sources of one gathering (see `readOnce`). Absent (a source driven alone, as in tests): every
   * source reads for itself.
   */
  readonly shared?: GatheringReads;
}

/**
 * What several sources of one gathering read alike (the rtnetlink link dump, /proc/net/dev: netdev, forward and
 * tcp_flags each need them): the first to ask reads, the others of the same gathering get the same value or the same
 * error. At 1000 pod interfaces that is ~20 ms of dump and parse less per copy not made (bench/RESULTS.md).
 */
export interface GatheringReads {
  /** The value of `read()` under `key` for this gathering; `read` runs only for the first caller. */
  once<T>(key: string, read: () => T): T;
  /** Forgets every value: called by the gatherer when a gathering starts and when it ends (nothing kept between). */
  clear(): void;
  /**
   * The value made by `make()` under `key`, made at the first call and kept for the gatherer's life (clear() keeps
   * it): for what a parser may reuse from one gathering to the next because the kernel does not change it, such as
   * the header lines of /proc/net/snmp (kernel/net-snmp.ts, SnmpHeaders). Never a gathering's values.
   */
  kept<T>(key: string, make: () => T): T;
}

export function createGatheringReads(): GatheringReads {
  const reads = new Map<string, { value: unknown } | { error: unknown }>();
  const kept = new Map<string, unknown>();
  return {
    once<T>(key: string, read: () => T): T {
      let entry = reads.get(key);
      if (entry === undefined) {
        try {
          entry = { value: read() };
        } catch (error) {
          entry = { error };
        }
        reads.set(key, entry);
      }
      if ('error' in entry) throw entry.error;
      return entry.value as T;
    },
    clear: () => reads.clear(),
    kept<T>(key: string, make: () => T): T {
      if (!kept.has(key)) kept.set(key, make());
      return kept.get(key) as T;
    },
  };
}

/** `read()` once per gathering under `key` when the context shares reads, else `read()` itself. */
export function readOnce<T>(ctx: Pick<SourceContext, 'shared'>, key: string, read: () => T): T {
  return ctx.shared === undefined ? read() : ctx.shared.once(key, read);
}

/** GatheringReads.kept when the context shares reads, else `make()` itself (nothing kept). */
export function keptAcrossGatherings<T>(ctx: Pick<SourceContext, 'shared'>, key: string, make: () => T): T {
  return ctx.shared === undefined ? make() : ctx.shared.kept(key, make);
}

export interface Source {
  /** Short, stable, snake_case: the value of kappie_source_up{source}. */
  readonly name: string;
  /** One line for --help and the status page: what it reads. */
  readonly description: string;
  readonly platforms: readonly Platform[];
  /** The catalog metrics this source fills. */
  readonly metrics: readonly MetricKey[];
  /**
   * Prepares long-lived state (a tracefs instance, an nftables table). Throwing marks the source down with the
   * error's message; start is tried again at the next gathering.
   */
  start?(ctx: SourceContext): Promise<void>;
  /**
   * Starts kernel work that this gathering's collect() finishes, so that it runs on another thread while the other
   * sources collect (tcp_sockets: the sock_diag walk of the established hash; tcp_flags: the nftables counter dump).
   * The gatherer calls it for every started source at the start of a gathering, before any collect, and collects the
   * sources that have it after the others. Must not throw: a failure is for collect() to report, or to recover from by doing the work itself. The
   * source's collection duration counts what collect() waits for that work, not the work itself.
   */
  prefetch?(ctx: SourceContext): void;
  /** Gathers once. Throwing marks the source down for this scrape with the error's message. */
  collect(ctx: SourceContext): Promise<Samples> | Samples;
  /** A note shown on the status page while the source is up but partial (e.g. a scan skipped above its limit). */
  note?(): string | undefined;
  /**
   * Events this source could not count since start, exported as kappie_source_lost_events_total. Only a source that can
   * lose events has it (one that streams them from a kernel buffer: drops' tracefs events); it returns undefined
   * while the strategy that gathers cannot lose any (drops counting with the kernel counters), and no series is
   * exported then: a 0 there would claim a check that does not exist.
   */
  lostEvents?(): number | undefined;
  /**
   * The `source` label of this gathering's status (kappie_source_up, _collection_duration_seconds, _lost_events, the
   * status page) when it is not `name`: a source with alternative strategies names the one that gathered, so each
   * strategy keeps its own series (the drops source: drop_reasons for tracefs events, drop_counters for the kernel
   * counters). Asked after each gathering, also a failed one.
   */
  statusName?(): string;
  /** Removes whatever start installed. Must be safe to call twice and after a failed start. */
  stop?(ctx: SourceContext): Promise<void>;
}

/**
 * Adds samples of metric K to a Samples object: the metric's list is a copy of `samples` on first use (made at its
 * size, never `samples` itself, which stays the caller's), else they are appended. Index loops: without TurboFan a
 * for-of makes an iterator result per sample (this runs for every sample of every gathering).
 */
export function addSamples<K extends MetricKey>(target: Samples, key: K, samples: readonly Sample<K>[]): void {
  const lists = target as Partial<Record<K, Sample<K>[]>>;
  const list = lists[key];
  if (list === undefined) {
    lists[key] = samples.slice();
    return;
  }
  for (let i = 0; i < samples.length; i++) list.push(samples[i]!);
}
