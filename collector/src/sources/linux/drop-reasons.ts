/**
 * kappie_drop_count (and kappie_drop_bytes where the kernel lets us count bytes) from the skb:kfree_skb tracepoint,
 * in a tracefs instance of our own (`<tracefs>/instances/kappie`, --tracefs-instance).
 *
 * Modes, chosen from what the running kernel offers (never from its version):
 *  - hist: `events/skb/kfree_skb/hist` exists (CONFIG_HIST_TRIGGERS): the kernel counts per (reason, location) and
 *    we read the table at scrape time. With kprobe events + BTF args too, a kprobe on the drop function sums bytes.
 *  - stream (our CI kernel): the event is enabled with an in-kernel filter and its trace_pipe is read without
 *    blocking every POLL_MS and at each scrape; totals accumulate in a bounded tally. Lost events come from the
 *    instance's per-CPU ring buffer stats.
 * Start replaces a stale instance left by a crashed run; stop removes it (and anything else start installed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIRECTION } from '../../catalog';
import { SourceUnavailableError, describeError } from '../../errors';
import type { Samples, Source, SourceContext } from '../../source';
import { kfreeSkbHistTrigger, parseHist } from './drop-hist';
import { parseKallsyms, type KernelSymbols } from './drop-kallsyms';
import {
  addKprobeBytes,
  KPROBE_EVENT,
  KPROBE_GROUP,
  KPROBE_TARGETS,
  kprobeBtfSupported,
  kprobeDefinition,
  kprobeHistTrigger,
  kprobeRemoval,
} from './drop-kprobe';
import { derivedReason, dropDirection } from './drop-locations';
import { DropStream } from './drop-stream';
import { DropTally } from './drop-tally';
import {
  clearTriggers,
  ensureTracefs,
  NonBlockingPipe,
  readControl,
  removeInstance,
  tryWriteControl,
  unmountTracefs,
  writeControl,
  type TracefsMount,
} from './tracefs';
import { parseEventFormat, type EventFormat } from './tracefs-format';
import { lostEvents as ringBufferLost, parseRingBufferStats } from './tracefs-stats';

const EVENT_DIR = 'skb/kfree_skb';
const KPROBE_DIR = `${KPROBE_GROUP}/${KPROBE_EVENT}`;
/** Per-CPU ring buffer: ~45k kfree_skb events per CPU, half a second of a 100k/s storm on one CPU between polls. */
export const BUFFER_SIZE_KB = 2048;
/** How often the stream is drained between scrapes. */
export const POLL_MS = 100;
/** Netfilter drops per second above which their stacks are switched off. */
export const STACK_BUDGET_PER_SECOND = 2000;
/** How long netfilter drops must stay below half the budget before stacks come back. */
export const STACK_CALM_MS = 5000;
/** Upper bound of one drain, so a storm cannot hold the event loop: what is left waits for the next poll. */
const MAX_BYTES_PER_DRAIN = 16 << 20;
/** Reasons the tracepoint can carry that are not drops. */
const NOT_DROPS = ['NOT_DROPPED_YET', 'SKB_NOT_DROPPED_YET', 'CONSUMED', 'SKB_CONSUMED'];

interface Running {
  readonly mount: TracefsMount;
  readonly instance: string;
  readonly format: EventFormat;
  readonly mode: 'stream' | 'hist';
  readonly hasReason: boolean;
  readonly tally: DropTally;
  readonly stream?: DropStream;
  readonly pipe?: NonBlockingPipe;
  readonly timer?: NodeJS.Timeout;
  /** The stack trigger for netfilter drop directions, switched off during storms. */
  readonly stacks?: {
    trigger: string;
    condition: string;
    on: boolean;
    lastNetfilterEvents: number;
    lastAt: number;
    calmSince: number | undefined;
  };
  readonly symbols: KernelSymbols | undefined;
  kprobeBytes: boolean;
  lost: number;
  note: string | undefined;
}

let running: Running | undefined;
/** True while the tracefs source is started and its last gathering succeeded: drop_counters then stays out. */
let healthy = false;

/** Whether kfree_skb drops are being counted right now (the arbitration of kappie_drop_count between sources). */
export function tracefsDropsActive(): boolean {
  return running !== undefined && healthy;
}

function instanceDir(ctx: SourceContext, mount: TracefsMount): string {
  return path.join(mount.root, 'instances', ctx.config.tracefsInstance);
}

/** The in-kernel filter: no frees of packets without a protocol (unix, netlink), no reasons that are not drops. */
export function kfreeSkbFilter(format: EventFormat): string {
  const clauses = ['protocol != 0'];
  const reasons = format.symbols.get('reason');
  if (reasons) {
    for (const [value, name] of reasons) if (NOT_DROPS.includes(name)) clauses.push(`reason != ${value}`);
  }
  return clauses.join(' && ');
}

function loadSymbols(ctx: SourceContext): KernelSymbols | undefined {
  try {
    const symbols = parseKallsyms(ctx.fs.readProc('kallsyms'), 'kallsyms');
    return symbols.size > 0 ? symbols : undefined;
  } catch (error) {
    ctx.log.warn(
      { err: describeError(error) },
      'cannot read /proc/kallsyms: drop locations given as addresses stay unnamed',
    );
    return undefined;
  }
}

function removeKprobe(mount: TracefsMount): void {
  const kprobeEvents = path.join(mount.root, 'kprobe_events');
  if (fs.existsSync(kprobeEvents)) tryWriteControl(kprobeEvents, kprobeRemoval(), true);
}

/** kprobe + hist for bytes; false (and why, logged) when the kernel does not offer it. */
function installKprobe(ctx: SourceContext, mount: TracefsMount, instance: string, format: EventFormat): boolean {
  const kprobeEvents = path.join(mount.root, 'kprobe_events');
  const readme = fs.existsSync(path.join(mount.root, 'README')) ? readControl(path.join(mount.root, 'README')) : '';
  if (!kprobeBtfSupported(readme, fs.existsSync(kprobeEvents))) return false;
  const reasons = format.symbols.get('reason');
  if (!reasons) return false;
  const firstDrop = Math.min(...[...reasons].filter(([, name]) => !NOT_DROPS.includes(name)).map(([value]) => value));
  removeKprobe(mount);
  const target = KPROBE_TARGETS.find((fn) => tryWriteControl(kprobeEvents, kprobeDefinition(fn), true));
  if (!target) {
    ctx.log.info('kprobe events exist but no drop function could be probed: kappie_drop_bytes stays limited');
    return false;
  }
  const trigger = path.join(instance, 'events', KPROBE_DIR, 'trigger');
  if (!tryWriteControl(trigger, kprobeHistTrigger(firstDrop), true)) {
    removeKprobe(mount);
    return false;
  }
  ctx.log.info({ target }, `counting dropped bytes with a kprobe on ${target}`);
  return true;
}

async function start(ctx: SourceContext): Promise<void> {
  if (running) return;
  const mount = ensureTracefs(ctx.config.tracefsPath, ctx.config.procPath);
  if (mount.mountedByUs) ctx.log.info({ path: mount.root }, `tracefs was not mounted: mounted it at ${mount.root}`);
  try {
    const formatFile = path.join(mount.root, 'events', EVENT_DIR, 'format');
    if (!fs.existsSync(formatFile)) {
      throw new SourceUnavailableError(`${formatFile} is missing: this kernel has no skb:kfree_skb tracepoint`);
    }
    const format = parseEventFormat(readControl(formatFile), formatFile);
    const hasReason = format.fields.some((field) => field.name === 'reason');
    const instance = instanceDir(ctx, mount);
    const stale = removeInstance(instance, [EVENT_DIR, KPROBE_DIR]);
    if (stale === 'busy') {
      throw new SourceUnavailableError(
        `tracefs instance ${instance} is in use by another process (another collector?): not taking it over`,
      );
    }
    if (stale === 'removed') ctx.log.info({ instance }, 'removed a stale tracefs instance left by an earlier run');
    removeKprobe(mount);
    fs.mkdirSync(instance);
    writeControl(path.join(instance, 'buffer_size_kb'), String(BUFFER_SIZE_KB));
    const symbols = hasReason ? undefined : loadSymbols(ctx);
    // Kernels that print the location with %p (5.15) hash it unless this option is off; we need the address.
    if (!hasReason) tryWriteControl(path.join(instance, 'options', 'hash-ptr'), '0');
    const filter = kfreeSkbFilter(format);
    const eventDir = path.join(instance, 'events', EVENT_DIR);
    const tally = new DropTally();

    if (fs.existsSync(path.join(eventDir, 'hist'))) {
      writeControl(path.join(eventDir, 'trigger'), kfreeSkbHistTrigger(hasReason, filter));
      const state: Running = {
        mount,
        instance,
        format,
        mode: 'hist',
        hasReason,
        tally,
        symbols,
        kprobeBytes: false,
        lost: 0,
        note: undefined,
      };
      running = state;
      state.kprobeBytes = installKprobe(ctx, mount, instance, format);
      ctx.log.info(
        { instance, mode: 'hist', reason: hasReason },
        'counting kfree_skb drops in the kernel (hist trigger)',
      );
      return;
    }

    writeControl(path.join(eventDir, 'filter'), filter);
    // A kernel stack after netfilter drops: nf_hook_slow serves every hook, only its caller tells the direction.
    const condition = netfilterCondition(format, symbols);
    const triggerFile = path.join(eventDir, 'trigger');
    const netfilterStacks = condition !== undefined && setNetfilterStacks(triggerFile, condition, true);
    writeControl(path.join(eventDir, 'enable'), '1');
    const stream = new DropStream(tally, {
      ignoredReasons: new Set(NOT_DROPS),
      netfilterStacks,
      symbols,
    });
    const pipe = new NonBlockingPipe(path.join(instance, 'trace_pipe'));
    const state: Running = {
      mount,
      instance,
      format,
      mode: 'stream',
      hasReason,
      tally,
      stream,
      pipe,
      symbols,
      kprobeBytes: false,
      lost: 0,
      note: undefined,
      stacks: netfilterStacks
        ? {
            trigger: triggerFile,
            condition: condition!,
            on: true,
            lastNetfilterEvents: 0,
            lastAt: Date.now(),
            calmSince: undefined,
          }
        : undefined,
      timer: setInterval(() => {
        drain(ctx);
        if (running) adaptNetfilterStacks(ctx, running);
      }, POLL_MS).unref(),
    };
    running = state;
    ctx.log.info(
      { instance, mode: 'stream', reason: hasReason, netfilterStacks, filter },
      `streaming kfree_skb drops from tracefs instance ${instance}`,
    );
  } catch (error) {
    if (!running) {
      removeInstance(instanceDir(ctx, mount), [EVENT_DIR, KPROBE_DIR]);
      unmountTracefs(mount);
    }
    throw error;
  }
}

/**
 * The condition selecting netfilter drops, for the `stacktrace` trigger: by reason where the kernel has it, else by
 * the address range of nf_hook_slow (5.15, from kallsyms). Undefined when neither is possible.
 */
function netfilterCondition(format: EventFormat, symbols: KernelSymbols | undefined): string | undefined {
  const reasons = format.symbols.get('reason');
  if (reasons) {
    const value = [...reasons].find(([, name]) => name === 'NETFILTER_DROP')?.[0];
    return value === undefined ? undefined : `reason == ${value}`;
  }
  const range = symbols?.rangeOf('nf_hook_slow');
  if (!range) return undefined;
  return `location >= 0x${range[0].toString(16)} && location < 0x${range[1].toString(16)}`;
}

/**
 * Stacks on or off for netfilter drops. A stack costs the kernel ~25 symbol lookups when read and us ~25 lines to
 * parse: in a netfilter drop storm (20k/s) they overran the ring buffer (bench/RESULTS.md). So above
 * STACK_BUDGET_PER_SECOND netfilter drops per second the trigger is removed (drops still counted, direction unknown) and
 * it comes back after STACK_CALM_MS below half of that. Switching only at storm edges keeps the trigger stable
 * otherwise (a removal waits for an RCU grace period: re-adding it every poll left windows without stacks).
 */
function setNetfilterStacks(trigger: string, condition: string, on: boolean): boolean {
  return tryWriteControl(trigger, `${on ? '' : '!'}stacktrace if ${condition}`, true);
}

function adaptNetfilterStacks(ctx: SourceContext, state: Running): void {
  const stacks = state.stacks;
  if (!stacks || !state.stream) return;
  const now = Date.now();
  const seconds = Math.max((now - stacks.lastAt) / 1000, POLL_MS / 1000);
  const perSecond = (state.stream.netfilterEvents - stacks.lastNetfilterEvents) / seconds;
  stacks.lastNetfilterEvents = state.stream.netfilterEvents;
  stacks.lastAt = now;
  if (stacks.on && perSecond > STACK_BUDGET_PER_SECOND) {
    stacks.on = !setNetfilterStacks(stacks.trigger, stacks.condition, false);
    state.stream.setNetfilterStacks(stacks.on);
    stacks.calmSince = undefined;
    ctx.log.info({ perSecond: Math.round(perSecond) }, 'netfilter drop storm: direction stacks off until it calms');
  } else if (!stacks.on) {
    // Back on only after a calm of STACK_CALM_MS: a starved event loop can see a quiet poll in the middle of a storm.
    if (perSecond >= STACK_BUDGET_PER_SECOND / 2) stacks.calmSince = undefined;
    else stacks.calmSince ??= now;
    if (stacks.calmSince !== undefined && now - stacks.calmSince >= STACK_CALM_MS) {
      stacks.on = setNetfilterStacks(stacks.trigger, stacks.condition, true);
      state.stream.setNetfilterStacks(stacks.on);
      if (stacks.on) ctx.log.info('netfilter drop storm over: direction stacks on again');
    }
  }
}

function drain(ctx: SourceContext): void {
  const state = running;
  if (!state?.pipe || !state.stream) return;
  try {
    state.stream.push(state.pipe.readLines(MAX_BYTES_PER_DRAIN));
    state.stream.settle();
  } catch (error) {
    ctx.log.warn({ err: describeError(error) }, 'reading trace_pipe failed');
  }
}

function readLost(state: Running): number {
  const perCpu = path.join(state.instance, 'per_cpu');
  let lost = 0;
  for (const cpu of fs.readdirSync(perCpu)) {
    if (!/^cpu\d+$/.test(cpu)) continue;
    const file = path.join(perCpu, cpu, 'stats');
    lost += ringBufferLost(parseRingBufferStats(readControl(file), file));
  }
  return lost;
}

function collectHist(state: Running): Samples {
  const eventDir = path.join(state.instance, 'events', EVENT_DIR);
  const histFile = path.join(eventDir, 'hist');
  const [table] = parseHist(readControl(histFile), histFile);
  if (!table) throw new SourceUnavailableError(`${histFile} shows no table: the hist trigger is gone`);
  // The kernel's table is cumulative: a fresh tally per scrape gives totals that only grow.
  const tally = new DropTally();
  const names = state.format.symbols.get('reason');
  for (const entry of table.entries) {
    const reasonKey = entry.keys['reason'];
    const locationKey = entry.keys['location'];
    const fn = locationKey && 'symbol' in locationKey ? locationKey.symbol : undefined;
    let reason: string;
    if (reasonKey && 'number' in reasonKey) {
      reason = names?.get(reasonKey.number) ?? `0x${reasonKey.number.toString(16)}`;
      if (NOT_DROPS.includes(reason)) continue;
    } else {
      reason = derivedReason(fn);
    }
    tally.add(reason, dropDirection(reason, fn) ?? DIRECTION.unknown, entry.values['hitcount'] ?? 0);
  }
  let lost = table.dropped;
  if (state.kprobeBytes && names) {
    const kprobeHist = path.join(state.instance, 'events', KPROBE_DIR, 'hist');
    const [bytesTable] = parseHist(readControl(kprobeHist), kprobeHist);
    if (bytesTable) {
      addKprobeBytes(bytesTable, names, tally);
      lost += bytesTable.dropped;
    }
  }
  state.lost = lost;
  const samples: Samples = { dropCount: tally.countSamples() };
  if (state.kprobeBytes) samples.dropBytes = tally.byteSamples();
  return samples;
}

function collect(ctx: SourceContext): Samples {
  const state = running;
  if (!state) throw new SourceUnavailableError('not started');
  try {
    if (state.mode === 'hist') {
      const samples = collectHist(state);
      healthy = true;
      return samples;
    }
    drain(ctx);
    const stream = state.stream!;
    state.lost = readLost(state) + stream.parseErrors;
    state.note = stream.lastParseError
      ? `unreadable trace lines (counted as lost): ${stream.lastParseError}`
      : undefined;
    healthy = true;
    return { dropCount: state.tally.countSamples() };
  } catch (error) {
    healthy = false;
    throw error;
  }
}

async function stop(ctx: SourceContext): Promise<void> {
  const state = running;
  running = undefined;
  healthy = false;
  if (!state) return;
  if (state.timer) clearInterval(state.timer);
  state.pipe?.close();
  clearTriggers(path.join(state.instance, 'events', EVENT_DIR, 'trigger'));
  const result = removeInstance(state.instance, [EVENT_DIR, KPROBE_DIR]);
  removeKprobe(state.mount);
  if (result === 'busy') ctx.log.warn({ instance: state.instance }, 'tracefs instance still busy: could not remove it');
  else ctx.log.info({ instance: state.instance }, 'removed tracefs instance');
  unmountTracefs(state.mount);
}

export const dropReasonsSource: Source = {
  name: 'drop_reasons',
  description:
    'skb:kfree_skb tracepoint in a tracefs instance (--tracefs-instance): drops by kernel reason and direction',
  platforms: ['linux'],
  metrics: ['dropCount', 'dropBytes'],
  start,
  collect,
  stop,
  note: () => {
    const state = running;
    if (!state) return undefined;
    const parts: string[] = [];
    if (!state.hasReason) parts.push('kernel without drop reasons: reasons derived from the drop location');
    if (!state.kprobeBytes) parts.push('no kprobe+hist: drop_bytes not counted by this source');
    if (state.note) parts.push(state.note);
    return parts.join('; ') || undefined;
  },
  lostEvents: () => running?.lost ?? 0,
};

/** For tests and the benchmark: events parsed by the running stream so far. */
export function streamedEvents(): number {
  return running?.stream?.events ?? 0;
}
