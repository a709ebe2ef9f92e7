/**
 * The tracefs events strategy of the drop source: kappie_drop_count (and kappie_drop_bytes where the kernel lets us
 * count bytes) from the skb:kfree_skb tracepoint, in a tracefs instance of our own (`<tracefs>/instances/kappie`,
 * --tracefs-instance).
 *
 * Modes, chosen from what the running kernel offers (never from its version):
 *  - hist (hist-mode.ts): `events/skb/kfree_skb/hist` exists (CONFIG_HIST_TRIGGERS): the kernel counts per (reason,
 *    location) and we read the table at scrape time; with kprobe events + BTF args too, a kprobe sums bytes.
 *  - stream (stream-mode.ts, our CI kernel): every event is read from the instance's trace_pipe.
 * Start replaces a stale instance left by a crashed run; stop removes it (and anything else start installed).
 */
import type { Logger } from 'pino';
import { describeError, SourceUnavailableError } from '../../../errors';
import { readKallsyms, type KernelSymbols } from '../../../kernel/kallsyms';
import { readEventFormat, type EventFormat } from '../../../kernel/tracefs/format';
import { clearTriggers, createInstance, instanceDir, removeInstance } from '../../../kernel/tracefs/instance';
import type { TracefsMount } from '../../../kernel/tracefs/mount';
import { tryWrite, type Tracefs } from '../../../kernel/tracefs/tracefs';
import type { Samples, SourceContext } from '../../../source';
import type { EventsMode, EventsModeSetup } from './events-mode';
import { KPROBE_EVENT_DIR, removeKprobeBytes, startHistMode } from './hist-mode';
import { kfreeSkbFilter, KFREE_SKB_EVENT } from './kfree-skb';
import { startStreamMode } from './stream-mode';

/** Per-CPU ring buffer: ~45k kfree_skb events per CPU, half a second of a 100k/s storm on one CPU between polls. */
export const BUFFER_SIZE_KB = 2048;
/** The events our instance may hold switches, filters and triggers on (what a failed rmdir must undo). */
const OUR_EVENTS = [KFREE_SKB_EVENT, KPROBE_EVENT_DIR];

/** The events strategy while it runs. */
export interface TracefsEvents {
  readonly mode: 'hist' | 'stream';
  /** kappie_drop_count (and _bytes where counted) since start. Throws when the kernel state it reads is gone. */
  collect(): Samples;
  /** Events not counted, as of the last collect. */
  lostEvents(): number;
  /** What counts only partially (derived reasons, no bytes, unreadable lines), or undefined. */
  note(): string | undefined;
  /** Events parsed from trace_pipe so far (0 in hist mode). */
  streamedEvents(): number;
  /** Removes the instance (and our kprobe) and unmounts tracefs if we mounted it. */
  stop(log: Logger): void;
}

/** Mount: tracefs at --tracefs-path, mounted there when it is not (said in the log). */
function mountStep(ctx: SourceContext, mountTracefs: (ctx: SourceContext) => TracefsMount): TracefsMount {
  const mount = mountTracefs(ctx);
  const root = mount.tracefs.root;
  if (mount.mountedByUs) ctx.log.info({ path: root }, `tracefs was not mounted: mounted it at ${root}`);
  return mount;
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
 * timer). Throws SourceUnavailableError saying why when tracefs cannot be used; nothing is left installed then.
 */
export function startTracefsEvents(
  ctx: SourceContext,
  mountTracefs: (ctx: SourceContext) => TracefsMount,
): TracefsEvents {
  const mount = mountStep(ctx, mountTracefs);
  const { tracefs } = mount;
  const instance = instanceDir(ctx.config.tracefsInstance);
  let mode: EventsMode;
  let hasReason: boolean;
  try {
    const format = readKfreeSkbFormat(tracefs);
    hasReason = format.fields.some((field) => field.name === 'reason');
    replaceStaleInstance(tracefs, instance, ctx.log);
    removeKprobeBytes(tracefs);
    createInstance(tracefs, ctx.config.tracefsInstance, BUFFER_SIZE_KB);
    const setup: EventsModeSetup = {
      tracefs,
      instance,
      format,
      hasReason,
      filter: kfreeSkbFilter(format),
      symbols: hasReason ? undefined : prepareAddressLocations(ctx, tracefs, instance),
      log: ctx.log,
    };
    mode = tracefs.exists(`${instance}/events/${KFREE_SKB_EVENT}/hist`) ? startHistMode(setup) : startStreamMode(setup);
  } catch (error) {
    try {
      // A busy instance is another process's: removeInstance leaves it alone.
      removeInstance(tracefs, instance, OUR_EVENTS);
      mount.unmount();
    } catch (cleanupError) {
      ctx.log.warn({ err: describeError(cleanupError) }, 'cleaning up after a failed start failed');
    }
    throw error;
  }

  return {
    mode: mode.mode,
    collect: () => mode.collect(),
    lostEvents: () => mode.lostEvents(),
    note() {
      const parts: string[] = [];
      if (!hasReason) parts.push('kernel without drop reasons: reasons derived from the drop location');
      if (!mode.countsBytes) parts.push('no kprobe+hist: drop_bytes not counted by this source');
      const modeNote = mode.note();
      if (modeNote) parts.push(modeNote);
      return parts.join('; ') || undefined;
    },
    streamedEvents: () => mode.streamedEvents(),
    stop(log) {
      mode.close();
      removeOurState(mount, instance, log);
    },
  };
}
