/**
 * Runs the sources and keeps their health. A gathering runs every source one after the other (parallel procfs reads
 * make the kernel slower, not faster) and never fails as a whole: a source that throws is reported down with its
 * reason, logged once per new reason, and the others carry on. Concurrent callers share one gathering.
 *
 * One exception to "one after the other": a source's prefetch (Source.prefetch) starts kernel work on a worker
 * thread when the gathering begins, and that source is collected last, so the work overlaps the other sources'
 * collection. Statuses keep the sources' order.
 */
import type { Logger } from 'pino';
import type { MetricKey } from './catalog';
import { describeError } from './errors';
import { checkSamples } from './sample-check';
import { createSeriesBirths, type SeriesBirths } from './series-birth';
import {
  addSamples,
  createGatheringReads,
  type GatheringReads,
  type Sample,
  type Samples,
  type Source,
  type SourceContext,
} from './source';

export interface SourceStatus {
  /** The `source` label of this status: the source's name, or for a source with strategies the one that gathered. */
  readonly name: string;
  /** The name of the source itself, as --sources selects it (differs from `name` only for such a source: drops). */
  readonly source: string;
  readonly description: string;
  readonly up: boolean;
  /** Why the source is down, or a note from a source that is up but partial. */
  readonly reason: string | undefined;
  readonly durationSeconds: number;
  /** kappie_source_lost_events_total; absent for a source (or strategy) that cannot lose events (Source.lostEvents). */
  readonly lostEvents?: number;
}

export interface Gathering {
  readonly samples: Samples;
  readonly sources: readonly SourceStatus[];
  /** When the gathering finished (ms since epoch). */
  readonly at: number;
}

interface SourceState {
  readonly source: Source;
  /** The gatherer's context with a logger that carries `source: <name>` on every line. */
  readonly context: SourceContext;
  started: boolean;
  lastReason: string | undefined;
  /** Rejections already logged (each is logged once, not at every scrape). */
  readonly loggedRejections: Set<string>;
}

export class Gatherer {
  private readonly states: SourceState[];
  private inFlight: Promise<Gathering> | undefined;
  private last: Gathering | undefined;
  private stopped = false;
  /** Counter series born above 0 are held at 0 first (series-birth.ts), per source strategy. */
  private readonly births: SeriesBirths;
  /** What the sources of one gathering read alike (source.ts, GatheringReads), forgotten between gatherings. */
  private readonly shared: GatheringReads = createGatheringReads();
  /** Indexes of `states` in the order they are collected: sources with a prefetch after the others. */
  private readonly collectOrder: readonly number[];

  constructor(
    sources: readonly Source[],
    private readonly context: SourceContext,
  ) {
    this.births = createSeriesBirths({ holdSeconds: context.config.newSeriesHoldSeconds ?? 0 });
    this.states = sources.map((source) => ({
      source,
      context: { ...context, log: context.log.child({ source: source.name }), shared: this.shared },
      started: false,
      lastReason: undefined,
      loggedRejections: new Set<string>(),
    }));
    const indexes = this.states.map((_, index) => index);
    const prefetches = (index: number) => this.states[index]!.source.prefetch !== undefined;
    this.collectOrder = [...indexes.filter((index) => !prefetches(index)), ...indexes.filter(prefetches)];
  }

  get log(): Logger {
    return this.context.log;
  }

  /** The most recent finished gathering, if any. */
  get latest(): Gathering | undefined {
    return this.last;
  }

  /** True once a gathering has finished with at least one source up. */
  get ready(): boolean {
    return this.last !== undefined && this.last.sources.some((status) => status.up);
  }

  /** Gathers now, or joins the gathering already running. */
  gather(): Promise<Gathering> {
    if (this.stopped) return Promise.reject(new Error('collector is shutting down'));
    if (!this.inFlight) {
      this.inFlight = this.gatherAll().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  /**
   * The latest gathering when it finished less than `maxAgeSeconds` ago, else a new one (or the one running). This is
   * the scrape reuse window: clients that scrape in a loop, or several Prometheus replicas at once, cost one gathering
   * per window instead of one each.
   */
  recent(maxAgeSeconds: number): Promise<Gathering> {
    const last = this.last;
    if (!this.stopped && last !== undefined && Date.now() - last.at < maxAgeSeconds * 1000) {
      return Promise.resolve(last);
    }
    return this.gather();
  }

  /** Stops every started source (removing what they installed in the kernel). Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.inFlight?.catch(() => undefined);
    for (const state of this.states) {
      if (!state.source.stop) continue;
      try {
        await state.source.stop(state.context);
      } catch (error) {
        state.context.log.error({ err: describeError(error) }, 'source failed to clean up');
      }
      state.started = false;
    }
  }

  private async gatherAll(): Promise<Gathering> {
    const samples: Samples = {};
    const statuses = new Array<SourceStatus>(this.states.length);
    this.shared.clear();
    try {
      for (const state of this.states) {
        if (state.started && state.source.prefetch) this.prefetch(state);
      }
      for (const index of this.collectOrder) {
        statuses[index] = await this.gatherOne(this.states[index]!, samples);
      }
    } finally {
      this.shared.clear();
    }
    this.last = { samples, sources: statuses, at: Date.now() };
    return this.last;
  }

  private async gatherOne(state: SourceState, into: Samples): Promise<SourceStatus> {
    const { source } = state;
    const startedAt = process.hrtime.bigint();
    let up = true;
    let reason: string | undefined;
    try {
      if (!state.started && source.start) await source.start(state.context);
      state.started = true;
      const produced = await source.collect(state.context);
      const { accepted, rejections } = checkSamples(source.name, source.metrics, produced);
      const strategy = source.statusName?.() ?? source.name;
      const admitted = this.births.admit(`${source.name}/${strategy}`, accepted, Date.now());
      // Indexed over the keys: Object.entries and for-of make an array per metric and an iterator result each.
      const metrics = Object.keys(admitted) as MetricKey[];
      for (let i = 0; i < metrics.length; i++) addSamples(into, metrics[i]!, admitted[metrics[i]!] as Sample[]);
      this.logRejections(state, rejections);
    } catch (error) {
      up = false;
      reason = describeError(error);
    }
    const durationSeconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    this.logTransition(state, up, reason);
    const lostEvents = source.lostEvents?.();
    return {
      name: source.statusName?.() ?? source.name,
      source: source.name,
      description: source.description,
      up,
      reason: up ? source.note?.() : reason,
      durationSeconds,
      ...(lostEvents === undefined ? {} : { lostEvents }),
    };
  }

  /** Starts a source's prefetch; one that throws anyway (a bug: it must not) is logged, and its collect goes on. */
  private prefetch(state: SourceState): void {
    try {
      state.source.prefetch?.(state.context);
    } catch (error) {
      state.context.log.error({ err: describeError(error) }, 'prefetch threw (a collector bug: please report it)');
    }
  }

  /** Logs each kind of rejected sample once: a source bug, not something that changes between scrapes. */
  private logRejections(state: SourceState, rejections: readonly string[]): void {
    for (const rejection of rejections) {
      if (state.loggedRejections.has(rejection)) continue;
      state.loggedRejections.add(rejection);
      state.context.log.error(`${rejection} (a collector bug: please report it)`);
    }
  }

  /** Logs a failure once per distinct reason, and the recovery once. */
  private logTransition(state: SourceState, up: boolean, reason: string | undefined): void {
    if (!up && reason !== state.lastReason) {
      state.context.log.warn({ reason }, `source ${state.source.name} is down: ${reason}`);
    } else if (up && state.lastReason !== undefined) {
      state.context.log.info(`source ${state.source.name} is up again`);
    }
    state.lastReason = up ? undefined : reason;
  }
}
