/**
 * The Linux drops source: kappie_drop_count{reason,direction}, and kappie_drop_bytes where the kernel lets us count
 * bytes, with one of two strategies, chosen HERE at every gathering and nowhere else:
 *  - tracefs events (tracefs-events.ts): the skb:kfree_skb tracepoint in a tracefs instance of our own, named by the
 *    kernel's own drop reasons (hist mode where the kernel has hist triggers, else stream mode);
 *  - kernel counters (counters.ts): the drop counters of procfs, coarser reasons, no privilege needed.
 * --drop-reader decides: `tracefs` (events only: the source is down while tracefs cannot be used), `hist` and `stream`
 * (events only, in that mode only: tracefs-events.ts), `counters` (never touches tracefs), `auto` (events; the
 * counters whenever events cannot count: a failed events gathering is replaced by the counters in that same
 * gathering, and the start of events is tried again after a backoff, EVENTS_RETRY_FIRST_MS doubling up to
 * EVENTS_RETRY_MAX_MS, not at every gathering: each try may mount and unmount tracefs). One gathering never exports
 * both, so no drop is counted twice.
 *
 * Names: the source is selected as `drops` (--sources, --disable-sources). Its status (kappie_source_up,
 * kappie_source_lost_events_total, the status page) is reported under the strategy that gathered, the names these two
 * strategies had as separate sources: `drop_reasons` (tracefs events) and `drop_counters` (kernel counters).
 *
 * Every piece of state lives in the closure of one createDropsSource call: two instances never share anything but
 * the kernel (and two collectors on one node must use different --tracefs-instance names).
 */
import { EVENTS_ONLY_READERS } from '../../../config';
import { describeError, SourceUnavailableError } from '../../../errors';
import { mountTracefs, type TracefsMount } from '../../../kernel/tracefs/mount';
import type { LinkDump } from '../../../kernel/rtnetlink-link';
import type { Samples, Source, SourceContext } from '../../../source';
import { createLinkReader } from '../interface-incarnations';
import { collectCounterDrops } from './counters';
import { startTracefsEvents, type TracefsEvents } from './tracefs-events';
import { createUntracedDrops, readUntracedCounters, type UntracedDrops } from './untraced-drops';

/** Why a one-shot gathering without events shows the kernel counters (see gatherOneShot). */
export const ONE_SHOT_NOTE =
  'read once here: the kernel drop counters (totals since boot, coarser reasons), as kappie snapshot --duration 0 ' +
  'reads them; kappie serve and kappie snapshot --duration N count tracefs events by kernel reason';

/**
 * In auto mode, how long after a failure tracefs events are tried again (then twice as long after each further
 * failure, up to EVENTS_RETRY_MAX_MS). A try may mount tracefs (two processes: mount, umount) and probe the instance:
 * at every scrape that was a mount, an unmount and a log line each time (seen by a new-user trial beside another
 * collector holding the instance).
 */
const EVENTS_RETRY_FIRST_MS = 30_000;
const EVENTS_RETRY_MAX_MS = 600_000;

/** The name the drops source is selected by. */
export const DROPS_SOURCE_NAME = 'drops';
/** The status name of each strategy: kappie_source_up{source=...} while it gathers. */
export const TRACEFS_EVENTS_STATUS = 'drop_reasons';
export const KERNEL_COUNTERS_STATUS = 'drop_counters';
type StrategyStatus = typeof TRACEFS_EVENTS_STATUS | typeof KERNEL_COUNTERS_STATUS;

/**
 * Why tracefs events do not count now, so the kernel counters do: a one-shot gathering that does not try them (not a
 * fault: ONE_SHOT_NOTE says so), or a failure to start or read them (`reason`, the error as described to the user).
 */
type EventsUnusable = { readonly kind: 'one-shot' } | { readonly kind: 'failed'; readonly reason: string };

/** The words for `unusable` in a reason or note. */
function describeUnusable(unusable: EventsUnusable): string {
  return unusable.kind === 'one-shot' ? ONE_SHOT_NOTE : unusable.reason;
}

export interface DropsSourceDeps {
  /** Finds tracefs (mounting it where needed). Default: --tracefs-path; tests give a tree of recorded files. */
  readonly mountTracefs?: (ctx: SourceContext) => TracefsMount;
  /** The rtnetlink link dump (NETDEV_RX_MISSED). Default: the live dump of the collector's namespace. */
  readonly dumpLinks?: () => LinkDump;
  /** The clock of the retry backoff, ms. Default: Date.now. */
  readonly now?: () => number;
}

export interface DropsSource extends Source {
  /** Events parsed from trace_pipe so far by this source (stream mode; 0 otherwise), for tests and the benchmark. */
  streamedEvents(): number;
}

export function createDropsSource(deps: DropsSourceDeps = {}): DropsSource {
  const mountAt = deps.mountTracefs ?? ((ctx) => mountTracefs(ctx.fs.tracefsPath));
  const now = deps.now ?? Date.now;
  /** Whether the log has said that we mounted tracefs (said once: a retry may mount it again). */
  let mountAnnounced = false;
  const mount = (ctx: SourceContext): TracefsMount => {
    const mounted = mountAt(ctx);
    if (mounted.mountedByUs && !mountAnnounced) {
      ctx.log.info({ path: mounted.tracefs.root }, `tracefs was not mounted: mounted it at ${mounted.tracefs.root}`);
      mountAnnounced = true;
    }
    return mounted;
  };
  /** Auto mode after a failure: when events are tried next, and the wait after that try fails too. */
  let retry: { atMs: number; nextWaitMs: number } | undefined;
  let events: TracefsEvents | undefined;
  /** Why tracefs events do not count now (auto mode: the counters do); each new failure reason is logged once. */
  let eventsUnusable: EventsUnusable | undefined;
  let gatheredBy: StrategyStatus = TRACEFS_EVENTS_STATUS;
  /** Drops the tracepoint never names (untraced-drops.ts), counted from the start of the running events strategy. */
  let untraced: UntracedDrops | undefined;
  /** Why the untraced drops could not be added in the last events gathering, if so. */
  let untracedUnreadable: string | undefined;
  const readLinks = createLinkReader(deps.dumpLinks, 'drop_count has no NETDEV_RX_MISSED in tracefs mode');

  /** The events strategy's gathering, starting it first when it is not running. Throws when it cannot count. */
  function gatherEvents(ctx: SourceContext): Samples {
    if (events === undefined) {
      events = startTracefsEvents(ctx, mount);
      untraced = createUntracedDrops();
    }
    const samples = events.collect(ctx);
    if (eventsUnusable !== undefined) ctx.log.info('tracefs events count drops again: kernel counters no longer used');
    eventsUnusable = undefined;
    retry = undefined;
    return withUntracedDrops(ctx, samples);
  }

  /** The events' samples plus the drops they never name; without them (and a note) when netstat cannot be read. */
  function withUntracedDrops(ctx: SourceContext, samples: Samples): Samples {
    try {
      const counted = samples.dropCount ?? [];
      const added = untraced?.samples(readUntracedCounters(ctx, readLinks(ctx)?.links), counted) ?? [];
      untracedUnreadable = undefined;
      return { ...samples, dropCount: [...counted, ...added] };
    } catch (error) {
      untracedUnreadable = describeError(error);
      return samples;
    }
  }

  function fallBackFrom(ctx: SourceContext, error: unknown): void {
    const why = describeError(error);
    const waitMs = retry?.nextWaitMs ?? EVENTS_RETRY_FIRST_MS;
    retry = { atMs: now() + waitMs, nextWaitMs: Math.min(2 * waitMs, EVENTS_RETRY_MAX_MS) };
    if (eventsUnusable?.kind !== 'failed' || why !== eventsUnusable.reason) {
      ctx.log.warn(
        { reason: why, retryInSeconds: waitMs / 1000 },
        `tracefs events cannot count drops (${why}): counting the kernel drop counters; trying events again in ` +
          `${waitMs / 1000} s`,
      );
    }
    eventsUnusable = { kind: 'failed', reason: why };
  }

  function gatherCounters(ctx: SourceContext): Samples {
    try {
      return { dropCount: collectCounterDrops(ctx) };
    } catch (error) {
      if (eventsUnusable === undefined) throw error;
      throw new SourceUnavailableError(
        `${describeError(error)} (and tracefs events: ${describeUnusable(eventsUnusable)})`,
      );
    }
  }

  /**
   * A one-shot gathering without events of its own (`kappie snapshot --duration 0`) never installs, replaces or
   * removes tracefs state: in hist mode a serving collector holds no tracefs file open, so "replacing a stale
   * instance" of the same name would delete the serving collector's live instance and kprobe. It shows the kernel
   * counters, and says how to count by kernel reason.
   */
  function gatherOneShot(ctx: SourceContext, reader: SourceContext['config']['dropReader']): Samples {
    const eventsOnly = EVENTS_ONLY_READERS.includes(reader);
    gatheredBy = eventsOnly ? TRACEFS_EVENTS_STATUS : KERNEL_COUNTERS_STATUS;
    // --drop-reader counters asked for the counters: nothing to explain.
    eventsUnusable = reader === 'counters' ? undefined : { kind: 'one-shot' };
    if (eventsOnly) throw new SourceUnavailableError(ONE_SHOT_NOTE);
    return gatherCounters(ctx);
  }

  return {
    name: DROPS_SOURCE_NAME,
    description:
      'drops by kernel reason and direction: skb:kfree_skb in our tracefs instance (status drop_reasons), ' +
      'else the kernel drop counters (status drop_counters)',
    platforms: ['linux'],
    metrics: ['dropCount', 'dropBytes'],
    collect(ctx) {
      const reader = ctx.config.dropReader;
      if (ctx.oneShot && ctx.oneShotEvents !== true) return gatherOneShot(ctx, reader);
      const waiting = reader === 'auto' && events === undefined && retry !== undefined && now() < retry.atMs;
      if (reader !== 'counters' && !waiting) {
        gatheredBy = TRACEFS_EVENTS_STATUS;
        try {
          return gatherEvents(ctx);
        } catch (error) {
          if (EVENTS_ONLY_READERS.includes(reader)) throw error;
          fallBackFrom(ctx, error);
        }
      }
      gatheredBy = KERNEL_COUNTERS_STATUS;
      return gatherCounters(ctx);
    },
    statusName: () => gatheredBy,
    note() {
      if (gatheredBy === TRACEFS_EVENTS_STATUS) {
        const parts = [events?.note(), untracedUnreadable && `drops the tracepoint never names: ${untracedUnreadable}`];
        return parts.filter(Boolean).join('; ') || undefined;
      }
      if (eventsUnusable === undefined) return undefined;
      if (eventsUnusable.kind === 'failed') {
        return `kernel drop counters (coarser reasons): tracefs events cannot count: ${eventsUnusable.reason}`;
      }
      // Not a fault: a one-shot gathering does not try tracefs. Only uid 0 could (README: permissions).
      const uid = process.getuid?.();
      return uid === undefined || uid === 0
        ? ONE_SHOT_NOTE
        : `${ONE_SHOT_NOTE} (as root: uid ${uid} cannot use tracefs)`;
    },
    // The kernel counters lose nothing: only the tracefs events (a ring buffer, a hist table) can.
    lostEvents: () => (gatheredBy === TRACEFS_EVENTS_STATUS ? (events?.lostEvents() ?? 0) : undefined),
    async stop(ctx) {
      readLinks.close();
      const running = events;
      events = undefined;
      untraced = undefined;
      running?.stop(ctx.log);
    },
    streamedEvents: () => events?.streamedEvents() ?? 0,
  };
}
