/**
 * Runs the sources and keeps their health. A gathering runs every source one after the other (parallel procfs reads
 * make the kernel slower, not faster) and never fails as a whole: a source that throws is reported down with its
 * reason, logged once per new reason, and the others carry on. Concurrent callers share one gathering.
 */
import type { Logger } from 'pino';
import type { MetricKey } from './catalog';
import { describeError } from './errors';
import { addSamples, type Sample, type Samples, type Source, type SourceContext } from './source';

export interface SourceStatus {
  readonly name: string;
  readonly description: string;
  readonly up: boolean;
  /** Why the source is down, or a note from a source that is up but partial. */
  readonly reason: string | undefined;
  readonly durationSeconds: number;
  readonly lostEvents: number;
}

export interface Gathering {
  readonly samples: Samples;
  readonly sources: readonly SourceStatus[];
  /** When the gathering finished (ms since epoch). */
  readonly at: number;
}

interface SourceState {
  readonly source: Source;
  started: boolean;
  lastReason: string | undefined;
}

export class Gatherer {
  private readonly states: SourceState[];
  private inFlight: Promise<Gathering> | undefined;
  private last: Gathering | undefined;
  private stopped = false;

  constructor(
    sources: readonly Source[],
    private readonly context: SourceContext,
  ) {
    this.states = sources.map((source) => ({ source, started: false, lastReason: undefined }));
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

  /** Stops every started source (removing what they installed in the kernel). Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.inFlight?.catch(() => undefined);
    for (const state of this.states) {
      if (!state.source.stop) continue;
      try {
        await state.source.stop(this.context);
      } catch (error) {
        this.context.log.error({ source: state.source.name, err: describeError(error) }, 'source failed to clean up');
      }
      state.started = false;
    }
  }

  private async gatherAll(): Promise<Gathering> {
    const samples: Samples = {};
    const statuses: SourceStatus[] = [];
    for (const state of this.states) {
      statuses.push(await this.gatherOne(state, samples));
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
      if (!state.started && source.start) await source.start(this.context);
      state.started = true;
      const produced = await source.collect(this.context);
      for (const [key, list] of Object.entries(produced) as [MetricKey, Sample[]][]) addSamples(into, key, list);
    } catch (error) {
      up = false;
      reason = describeError(error);
    }
    const durationSeconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    this.logTransition(state, up, reason);
    return {
      name: source.name,
      description: source.description,
      up,
      reason: up ? source.note?.() : reason,
      durationSeconds,
      lostEvents: source.lostEvents?.() ?? 0,
    };
  }

  /** Logs a failure once per distinct reason, and the recovery once. */
  private logTransition(state: SourceState, up: boolean, reason: string | undefined): void {
    if (!up && reason !== state.lastReason) {
      this.context.log.warn({ source: state.source.name, reason }, `source ${state.source.name} is down: ${reason}`);
    } else if (up && state.lastReason !== undefined) {
      this.context.log.info({ source: state.source.name }, `source ${state.source.name} is up again`);
    }
    state.lastReason = up ? undefined : reason;
  }
}
