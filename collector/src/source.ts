/**
 * What a source is: one facility of the OS (a procfs file, tracefs, nftables, an iphlpapi table) turned into samples
 * of catalog metrics. Sources do thin I/O and hand the text or bytes to a pure parser; they never format output.
 */
import type { Logger } from 'pino';
import type { MetricKey, Platform } from './catalog';
import type { CollectorConfig } from './config';
import type { HostFs } from './host-fs';

export interface Sample {
  /** Label values by label name (catalog names only); node_name and cluster are added by the exposition. */
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What one gathering of a source produced, per catalog metric. A metric a source did not fill is absent. */
export type Samples = Partial<Record<MetricKey, Sample[]>>;

export interface SourceContext {
  readonly config: CollectorConfig;
  /** Reads under --proc-path and --sys-path (so containers can point at /host/proc, /host/sys). */
  readonly fs: HostFs;
  readonly log: Logger;
  /**
   * True for one-shot commands (`kappie snapshot`, e.g. through kubectl exec next to a serving collector). A source
   * that installs kernel state may then only use what a serving collector installed, never replace or remove it
   * (tcp_flags does so with its nft table). Absent or false: the collector keeps running and owns that state.
   */
  readonly oneShot?: boolean;
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
  /** Gathers once. Throwing marks the source down for this scrape with the error's message. */
  collect(ctx: SourceContext): Promise<Samples> | Samples;
  /** A note shown on the status page while the source is up but partial (e.g. a scan skipped above its limit). */
  note?(): string | undefined;
  /** Events this source could not count since start (streaming sources), exported as kappie_source_lost_events. */
  lostEvents?(): number;
  /** Removes whatever start installed. Must be safe to call twice and after a failed start. */
  stop?(ctx: SourceContext): Promise<void>;
}

/** Adds samples to a Samples object, creating the metric's list on first use. */
export function addSamples(target: Samples, key: MetricKey, samples: readonly Sample[]): void {
  const list = target[key] ?? (target[key] = []);
  for (const sample of samples) list.push(sample);
}
