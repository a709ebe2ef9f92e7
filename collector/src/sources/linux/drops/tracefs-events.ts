/**
 * The tracefs events strategy of the drop source: kappie_drop_count (and kappie_drop_bytes where the kernel lets us
 * count bytes) from the skb:kfree_skb tracepoint, in a tracefs instance of our own (`<tracefs>/instances/kappie`,
 * --tracefs-instance).
 *
 * Modes, chosen from what the running kernel offers (never from its version), unless --drop-reader names one:
 *  - hist (hist-mode.ts): `events/skb/kfree_skb/hist` exists (CONFIG_HIST_TRIGGERS): the kernel counts per (reason,
 *    location) and we read the table at scrape time; with kprobe events too, a kprobe sums bytes.
 *  - stream (stream-mode.ts, our CI kernel, or --drop-reader stream): every event is read from the instance's
 *    trace_pipe.
 * Start replaces a stale instance left by a crashed run; stop removes it (and anything else start installed).
 */
import type { Logger } from 'pino';
import type { DropReader } from '../../../config';
import { describeError, SourceUnavailableError } from '../../../errors';
import { readKernelBtf } from '../../../kernel/btf';
import { readKallsyms, type KernelSymbols } from '../../../kernel/kallsyms';
import { readEventFormat, type EventFormat } from '../../../kernel/tracefs/format';
import { clearTriggers, createInstance, instanceDir, removeInstance } from '../../../kernel/tracefs/instance';
import type { TracefsMount } from '../../../kernel/tracefs/mount';
import { tryWrite, type Tracefs } from '../../../kernel/tracefs/tracefs';
import type { Samples, SourceContext } from '../../../source';
import type { GatheringFiles } from '../procfs-reads';
import type { EventsMode, EventsModeSetup } from './events-mode';
import { KPROBE_EVENT_DIR, removeKprobeBytes, startHistMode } from './hist-mode';
import { kfreeSkbFilter, KFREE_SKB_EVENT } from './kfree-skb';
import { createInstanceStateGuard, streamModeControls, type InstanceStateGuard } from './instance-state';
import { startStreamMode } from './stream-mode';

/** Per-CPU ring buffer: ~45k kfree_skb events per CPU, half a second of a 100k/s storm on one CPU between polls. */
export const BUFFER_SIZE_KB = 2048;
/** The events our instance may hold switches, filters and triggers on (what a failed rmdir must undo). */
const OUR_EVENTS = [KFREE_SKB_EVENT, KPROBE_EVENT_DIR];

/** The events strategy while it runs. */
export interface TracefsEvents {
  readonly mode: 'hist' | 'stream';
  /**
   * kappie_drop_count (and _bytes where counted) since start. Throws when the kernel state it reads is gone. `ctx`:
   * the gathering's files (stream mode's instance guard sums the kernel drop counters).
   */
  collect(ctx: GatheringFiles): Samples;
  /** Events not counted, as of the last collect. */
  lostEvents(): number;
  /** What counts only partially (derived reasons, no bytes, unreadable lines), or undefined. */
  note(): string | undefined;
  /** Events parsed from trace_pipe so far (0 in hist mode). */
  streamedEvents(): number;
  /** Removes the instance (and our kprobe) and unmounts tracefs if we mounted it. */
  stop(log: Logger): void;
}

/** Read the format: the running kernel's kfree_skb format (reason names and numbers come from it, never hard-coded). */
function readKfreeSkbFormat(tracefs: Tracefs): EventFormat {
  const format = readEventFormat(tracefs, KFREE_SKB_EVENT);
  if (!format) {
    const file = tracefs.pathOf(`events/${KFREE_SKB_EVENT}/format`);
    throw new SourceUnavailableError(`${file} is missing: this kernel has no skb:kfree_skb tracepoint`);
  }
  return format;
}

/** Replace a stale instance: an instance of our name left by a crashed run is removed; one a live process holds open is not touched. */
function replaceStaleInstance(tracefs: Tracefs, instance: string, log: Logger): void {
  const stale = removeInstance(tracefs, instance, OUR_EVENTS);
  if (stale === 'busy') {
    throw new SourceUnavailableError(
      `tracefs instance ${tracefs.pathOf(instance)} is in use by another process (another collector?): not taking it over`,
    );
  }
  if (stale === 'removed') {
    log.info({ instance: tracefs.pathOf(instance) }, 'removed a stale tracefs instance left by an earlier run');
  }
}

/**
 * Address locations, on kernels that print the location as an address (%p, 5.15): the instance's hash-ptr option off (we need
 * the real address) and the kernel symbols to name it. Undefined symbols when they cannot be read (said in the log).
 */
function prepareAddressLocations(ctx: SourceContext, tracefs: Tracefs, instance: string): KernelSymbols | undefined {
  let symbols: KernelSymbols | undefined;
  try {
    symbols = readKallsyms(ctx.fs);
  } catch (error) {
    ctx.log.warn(
      { err: describeError(error) },
      'cannot read /proc/kallsyms: drop locations given as addresses stay unnamed',
    );
  }
  if (symbols?.size === 0) {
    ctx.log.warn(
      '/proc/kallsyms shows no addresses (kptr_restrict, or no CAP_SYSLOG): drop locations given as addresses stay unnamed',
    );
  }
  tryWrite(tracefs, `${instance}/options/hash-ptr`, '0');
  return symbols !== undefined && symbols.size > 0 ? symbols : undefined;
}

/**
 * Which mode counts: `stream` when --drop-reader stream asks for it or the kernel has no hist triggers, else `hist`.
 * Throws SourceUnavailableError when --drop-reader hist asks for hist triggers the kernel does not have.
 */
export function eventsModeFor(reader: DropReader, kernelHasHist: boolean, histFile: string): 'hist' | 'stream' {
  if (reader === 'stream') return 'stream';
  if (kernelHasHist) return 'hist';
  if (reader === 'hist') {
    throw new SourceUnavailableError(
      `--drop-reader hist: this kernel has no hist triggers (${histFile} is missing: no CONFIG_HIST_TRIGGERS); ` +
        'use --drop-reader tracefs or stream to stream the events instead',
    );
  }
  return 'stream';
}

/** The removal of everything start installed, also after a failed start; `mount` is unmounted if we mounted it. */
function removeOurState(mount: TracefsMount, instance: string, log: Logger): void {
  const { tracefs } = mount;
  clearTriggers(tracefs, `${instance}/events/${KFREE_SKB_EVENT}/trigger`);
  const result = removeInstance(tracefs, instance, OUR_EVENTS);
  // After the instance: its trigger on the kprobe event kept the kprobe busy.
  removeKprobeBytes(tracefs);
  if (result === 'busy')
    log.warn({ instance: tracefs.pathOf(instance) }, 'tracefs instance still busy: could not remove it');
  else if (result === 'removed') log.info({ instance: tracefs.pathOf(instance) }, 'removed tracefs instance');
  mount.unmount();
}

/**
 * Starts counting kfree_skb drops in our instance: mount, read the format, replace a stale instance, create ours,
 * then hist mode (with the kprobe for bytes) where the kernel has hist triggers, else stream mode (with its poll
 * timer); --drop-reader hist or stream forces one (eventsModeFor). Throws SourceUnavailableError saying why when tracefs cannot be used; nothing is left installed then.
 */
export function startTracefsEvents(
  ctx: SourceContext,
  mountTracefs: (ctx: SourceContext) => TracefsMount,
): TracefsEvents {
  // tracefs at --tracefs-path, mounted there when it is not (the drops source says so in the log, once).
  const mount = mountTracefs(ctx);
  const { tracefs } = mount;
  const instance = instanceDir(ctx.config.tracefsInstance);
  let mode: EventsMode;
  let hasReason: boolean;
  let guard: InstanceStateGuard | undefined;
  let forcedStream = false;
  // Whether this start created the instance: a start that fails before (no permission to read the format, an
  // instance in use by another process) has nothing of its own to remove, and says nothing about removing it.
  let created = false;
  try {
    const format = readKfreeSkbFormat(tracefs);
    hasReason = format.fields.some((field) => field.name === 'reason');
    replaceStaleInstance(tracefs, instance, ctx.log);
    removeKprobeBytes(tracefs);
    createInstance(tracefs, ctx.config.tracefsInstance, BUFFER_SIZE_KB);
    created = true;
    const setup: EventsModeSetup = {
      tracefs,
      instance,
      format,
      hasReason,
      filter: kfreeSkbFilter(format),
      symbols: hasReason ? undefined : prepareAddressLocations(ctx, tracefs, instance),
      streamFormat: ctx.config.dropStreamFormat,
      readKernelSymbols: (keep) => readKallsyms(ctx.fs, { keepName: keep }),
      readBtf: () => readKernelBtf(ctx.fs),
      log: ctx.log,
    };
    const histFile = `${instance}/events/${KFREE_SKB_EVENT}/hist`;
    const chosen = eventsModeFor(ctx.config.dropReader, tracefs.exists(histFile), tracefs.pathOf(histFile));
    forcedStream = ctx.config.dropReader === 'stream' && tracefs.exists(histFile);
    mode = chosen === 'hist' ? startHistMode(setup) : startStreamMode(setup);
    // Stream mode's switches can be turned off from outside; hist mode fails on its own when its trigger is gone.
    if (mode.mode === 'stream') {
      try {
        guard = createInstanceStateGuard(tracefs, streamModeControls(instance, setup.filter), ctx, ctx.log);
      } catch (error) {
        mode.close(); // its open pipes would keep the instance from being removed below
        throw error;
      }
    }
  } catch (error) {
    try {
      if (created) removeInstance(tracefs, instance, OUR_EVENTS);
      mount.unmount();
    } catch (cleanupError) {
      ctx.log.warn({ err: describeError(cleanupError) }, 'cleaning up after a failed start failed');
    }
    throw error;
  }

  return {
    mode: mode.mode,
    collect(gathering) {
      guard?.beforeCollect(gathering);
      return mode.collect();
    },
    lostEvents: () => mode.lostEvents() + (guard?.lostEvents() ?? 0),
    note() {
      const parts: string[] = [];
      if (!hasReason) parts.push('kernel without drop reasons: reasons derived from the drop location');
      if (!mode.countsBytes) {
        parts.push(
          forcedStream
            ? 'stream mode (--drop-reader stream): drop_bytes not counted by this source'
            : 'no kprobe+hist: drop_bytes not counted by this source',
        );
      }
      const modeNote = mode.note();
      if (modeNote) parts.push(modeNote);
      return parts.join('; ') || undefined;
    },
    streamedEvents: () => mode.streamedEvents(),
    stop(log) {
      guard?.close();
      mode.close();
      removeOurState(mount, instance, log);
    },
  };
}
