/**
 * `kappie snapshot`: the tables (or JSON) of one look at this node, with where the numbers came from.
 *
 *  - Next to a serving collector (found at `--from URL`, else where `kappie serve` listens here: serving-collector.ts):
 *    THAT collector's totals, read from its /metrics. Nothing is counted twice and no kernel state is touched.
 *  - Alone (nothing answers there, or `--from none`): a gathering of its own. Drops are counted for `--duration`
 *    seconds (default 10) from skb:kfree_skb in a tracefs instance of its own (`<--tracefs-instance>-snapshot`, never a
 *    serving collector's), removed at the end; `--duration 0` reads the kernel's drop counters (totals since boot) at
 *    once. TCP flags are read from the nftables table of a collector serving here, if any (a snapshot never installs
 *    one: flags are counted only while `kappie serve` runs).
 *
 * Interrupted (Ctrl-C, SIGTERM when a `kubectl exec` ends) while gathering here, it stops counting, reads what it
 * counted, removes its instance, says so on one line and exits with 128 + the signal's number (InterruptedError);
 * nothing is printed on stdout, where a script would take partial tables for a whole window's.
 */
import { LABEL, type MetricKey } from './catalog';
import { EVENTS_ONLY_READERS, secondsParser, type CollectorConfig, type OptionOrigins } from './config';
import { ConfigError, InterruptedError } from './errors';
import { Gatherer, type Gathering } from './gatherer';
import { createHostFs } from './kernel/host-fs';
import { silentLogger } from './log';
import { collectorTarget, fetchExposition, gatheringFromExposition, type CollectorTarget } from './serving-collector';
import { interruptedExitCode, listenForInterruption, type TerminatingSignal } from './signals';
import { snapshotJson } from './snapshot-json';
import type { LocalDrops, SnapshotOrigin } from './snapshot-origin';
import { renderSnapshot } from './snapshot-table';
import type { Source } from './source';
import { createSources, currentPlatform } from './sources';
import { DEFAULT_WIDTH } from './text-table';
import { DROPS_SOURCE_NAME, KERNEL_COUNTERS_STATUS, TRACEFS_EVENTS_STATUS } from './sources/linux/drops/drops-source';

/** Seconds a snapshot alone counts drops when --duration is not given. */
export const DEFAULT_SNAPSHOT_DURATION_SECONDS = 10;
/** The longest --duration: an hour (a longer look is what `kappie serve` and Prometheus are for). */
const MAX_DURATION_SECONDS = 3600;

export interface SnapshotOptions {
  readonly config: CollectorConfig;
  /** Where each config value came from (the flag or the environment variable), for errors that name it. */
  readonly origins: Pick<OptionOrigins, 'dropReader'>;
  /** The selected sources (--sources, --disable-sources), run when the snapshot gathers itself. */
  readonly sources: readonly Source[];
  readonly json: boolean;
  /** --from: a collector's /metrics URL, or `none`; undefined: look where `kappie serve` listens here. */
  readonly from: string | undefined;
  /** --duration as given (seconds), or undefined for the default. */
  readonly duration: string | undefined;
  /** KAPPIE_LISTEN of the environment (a `kubectl exec` inherits the serving container's). */
  readonly listenEnv: string | undefined;
  /** Where the output goes (stdout), and progress lines (stderr). */
  readonly write: (text: string) => void;
  readonly progress: (line: string) => void;
  /** Terminal columns, when the output is a terminal. */
  readonly columns: number | undefined;
  /** The gathering options given on the command line (`--sources`, ...): they shape a gathering here only. */
  readonly gatheringFlags: readonly string[];
}

/** --duration in seconds (0 to an hour, fractions allowed). Throws a ConfigError naming --duration. */
export function parseDuration(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_SNAPSHOT_DURATION_SECONDS;
  return secondsParser(0, MAX_DURATION_SECONDS)(raw, '--duration');
}

/**
 * `--duration 0` reads the kernel drop counters at once, and a reader of tracefs events only (tracefs, hist, stream)
 * needs a window to count in: together they cannot be honoured, so the snapshot refuses them before it does anything
 * (a ConfigError naming the reader as the user set it, flag or environment variable, and both ways out).
 */
export function checkReaderForDuration(
  durationSeconds: number,
  config: Pick<CollectorConfig, 'dropReader'>,
  origins: Pick<OptionOrigins, 'dropReader'>,
): void {
  if (durationSeconds !== 0 || !EVENTS_ONLY_READERS.includes(config.dropReader)) return;
  throw new ConfigError(
    origins.dropReader,
    `"${config.dropReader}" counts tracefs events over a window, but --duration 0 reads the kernel drop counters at ` +
      'once: give --duration N (seconds to count drops by kernel reason), or leave the drop reader at auto or counters',
  );
}

/** The tracefs instance a snapshot counts in: its own, so a serving collector's is never replaced or removed. */
export function snapshotInstance(tracefsInstance: string): string {
  return `${tracefsInstance}-snapshot`;
}

/** The names of the sources of this platform that fill each metric, and each source's description. */
function sourceCatalog(): { metricSources: Map<MetricKey, string[]>; describe: (name: string) => string } {
  const platform = currentPlatform();
  const sources = createSources().filter((source) => source.platforms.includes(platform));
  const metricSources = new Map<MetricKey, string[]>();
  for (const source of sources) {
    for (const key of source.metrics) metricSources.set(key, [...(metricSources.get(key) ?? []), source.name]);
  }
  const descriptions = new Map(sources.map((source) => [source.name, source.description]));
  return { metricSources, describe: (name) => descriptions.get(name) ?? '' };
}

/** How the final gathering counted drops. */
function localDrops(
  gathering: Gathering,
  options: SnapshotOptions,
  config: CollectorConfig,
  durationSeconds: number,
  window: { from: number; to: number } | undefined,
): LocalDrops {
  const status = gathering.sources.find((s) => s.source === DROPS_SOURCE_NAME);
  if (status === undefined) {
    // Windows: the Hyper-V and VFP drop counters (totals since they started), read at once.
    const counting = options.sources
      .filter((source) => source.metrics.includes('dropCount'))
      .filter((source) => gathering.sources.some((s) => s.source === source.name && s.up));
    if (counting.length === 0) return { countedBy: 'none' };
    return { countedBy: 'kernel_counters', why: `read at once by ${counting.map((s) => s.name).join(', ')}` };
  }
  if (!status.up) return { countedBy: 'none' };
  if (status.name === TRACEFS_EVENTS_STATUS && window !== undefined) {
    return {
      countedBy: 'tracefs_events',
      tracefsInstance: config.tracefsInstance,
      windowSeconds: durationSeconds,
      ...window,
    };
  }
  if (status.name === KERNEL_COUNTERS_STATUS) {
    const why =
      config.dropReader === 'counters'
        ? '--drop-reader counters'
        : durationSeconds === 0
          ? '--duration 0'
          : 'tracefs events cannot count here: see the sources table';
    return { countedBy: 'kernel_counters', why };
  }
  return { countedBy: 'none' };
}

/** Waits `seconds`, or until `interrupted` resolves if sooner (the timer is then cleared: nothing holds the process). */
function sleepUnless(seconds: number, interrupted: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    void interrupted.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** How many rows of the largest `dropsSoFar` names; the others are summed in one part. */
const LARGEST_REASONS_NAMED = 3;

/**
 * How many drops the gathering holds, with the largest reason/direction rows and what the others add up to, so that
 * the parts sum to the total: `160 drops counted so far (NO_SOCKET ingress 54, ..., 2 more reasons: 32)`.
 */
export function dropsSoFar(gathering: Gathering): string {
  const status = gathering.sources.find((s) => s.source === DROPS_SOURCE_NAME);
  if (status !== undefined && !status.up) return `the drops counted so far could not be read (${status.reason})`;
  const rows = [...(gathering.samples.dropCount ?? [])]
    .filter((row) => row.value > 0)
    .sort((a, b) => b.value - a.value);
  const sum = (of: typeof rows) => of.reduce((total, row) => total + row.value, 0);
  const parts = rows
    .slice(0, LARGEST_REASONS_NAMED)
    .map((row) => `${row.labels[LABEL.reason]} ${row.labels[LABEL.direction]} ${row.value}`);
  const others = rows.slice(LARGEST_REASONS_NAMED);
  if (others.length > 0) {
    parts.push(`${others.length} more ${others.length === 1 ? 'reason' : 'reasons'}: ${sum(others)}`);
  }
  return `${sum(rows)} drops counted so far${parts.length === 0 ? '' : ` (${parts.join(', ')})`}`;
}

/**
 * What an interrupted snapshot did, for its one line on stderr: how long it counted and what (when its window had
 * begun), or when it stopped.
 */
function interruptedWhile(
  signal: TerminatingSignal,
  gathering: Gathering,
  window: { from: number; to: number } | undefined,
  counting: { seconds: number } | undefined,
): InterruptedError {
  const what =
    counting === undefined
      ? 'while gathering'
      : window === undefined
        ? 'before it began counting drops'
        : `after ${((window.to - window.from) / 1000).toFixed(1)} s of its ${counting.seconds} s count: ` +
          dropsSoFar(gathering);
  const hint = counting === undefined ? '' : ' (--duration sets a shorter count)';
  return new InterruptedError(
    signal,
    interruptedExitCode(signal),
    `snapshot interrupted by ${signal} ${what}; nothing printed${hint}`,
  );
}

/**
 * A gathering of the snapshot's own: started once (the drops source creates its instance and starts counting), then,
 * when drops are counted by tracefs events and a duration is asked for, gathered again after it.
 */
async function gatherHere(
  options: SnapshotOptions,
  durationSeconds: number,
  target: CollectorTarget | undefined,
): Promise<{ gathering: Gathering; origin: SnapshotOrigin }> {
  // Series born during the window are shown at once (serve holds them at 0 for rate(); nothing here computes rates).
  const config: CollectorConfig = {
    ...options.config,
    tracefsInstance: snapshotInstance(options.config.tracefsInstance),
    newSeriesHoldSeconds: 0,
  };
  const countsEvents = durationSeconds > 0 && config.dropReader !== 'counters';
  const hostFs = createHostFs(config);
  const gatherer = new Gatherer(options.sources, {
    config,
    fs: hostFs,
    log: silentLogger(),
    oneShot: true,
    oneShotEvents: countsEvents,
  });
  // A signal (Ctrl-C, a kubectl exec that ends) only ends the wait: the flow below reads what was counted and the
  // finally removes what the sources installed, then the CLI says so and exits (InterruptedError).
  const interruption = listenForInterruption(silentLogger());
  try {
    let gathering = await gatherer.gather();
    let window: { from: number; to: number } | undefined;
    const drops = gathering.sources.find((s) => s.source === DROPS_SOURCE_NAME);
    const counting = countsEvents && drops?.name === TRACEFS_EVENTS_STATUS && drops.up;
    if (counting && interruption.signal() === undefined) {
      options.progress(
        `kappie snapshot: counting drops for ${durationSeconds} s in tracefs instance ${config.tracefsInstance} ` +
          '(--duration sets how long)',
      );
      const from = gathering.at;
      await sleepUnless(durationSeconds, interruption.received);
      gathering = await gatherer.gather();
      window = { from, to: gathering.at };
    }
    const signal = interruption.signal();
    if (signal !== undefined) {
      throw interruptedWhile(signal, gathering, window, counting ? { seconds: durationSeconds } : undefined);
    }
    const origin: SnapshotOrigin = {
      kind: 'local',
      lookedFor: target?.url,
      drops: localDrops(gathering, options, config, durationSeconds, window),
    };
    return { gathering, origin };
  } finally {
    await gatherer.stop();
    hostFs.close();
  }
}

/**
 * Runs `kappie snapshot`. Throws ConfigError (exit 2) for a bad --from or --duration, or --duration 0 with an
 * events-only drop reader; ServingCollectorError when a named collector cannot be read or something at the default
 * address answers but not as a Kappie collector.
 */
export async function runSnapshot(options: SnapshotOptions): Promise<void> {
  const durationSeconds = parseDuration(options.duration);
  checkReaderForDuration(durationSeconds, options.config, options.origins);
  const target = collectorTarget(options.from, options.listenEnv);
  const catalog = sourceCatalog();
  const exposition = target === undefined ? undefined : await fetchExposition(target);
  let result: { gathering: Gathering; origin: SnapshotOrigin };
  if (target !== undefined && exposition !== undefined) {
    const read = gatheringFromExposition(exposition.text, target.url, exposition.at, catalog.describe);
    const ignored = [...options.gatheringFlags, ...(options.duration === undefined ? [] : ['--duration'])];
    if (ignored.length > 0) {
      options.progress(
        `kappie snapshot: ${ignored.join(', ')} ${ignored.length === 1 ? 'shapes' : 'shape'} a gathering here, not ` +
          `the totals of the collector at ${target.url} shown below (--from none gathers here)`,
      );
    }
    result = {
      gathering: read.gathering,
      origin: {
        kind: 'collector',
        url: target.url,
        scrapedAt: exposition.at,
        metricPrefix: read.metricPrefix,
        nodeName: read.nodeName,
      },
    };
  } else {
    result = await gatherHere(options, durationSeconds, target);
  }
  options.write(
    options.json
      ? `${JSON.stringify(snapshotJson(result.gathering, result.origin), null, 2)}\n`
      : renderSnapshot({
          ...result,
          metricSources: catalog.metricSources,
          width: options.columns ?? DEFAULT_WIDTH,
        }),
  );
}
