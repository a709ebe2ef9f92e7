/**
 * Keeping our tracefs instance counting when something outside switches it off: `echo 0 > .../kfree_skb/enable`,
 * `echo 0 > tracing_on`, or a reset of the instance (trace-cmd's reset clears filters and switches events off). Then
 * the tracepoint records nothing, and without this check the drops would vanish: no lost events, source up.
 *
 * Stream mode is checked at every gathering (hist mode already fails when its trigger, and so its table, is gone):
 * the instance's `tracing_on`, the event's `enable` and its `filter` are read and compared with what stream mode
 * wrote. What differs is written back, a warning says what was found, and the drops the gap hid are counted as lost
 * events: the growth of the kernel drop counters (counters.ts, the collector's namespace) since the previous
 * gathering, the interval that contained the gap. It is an upper bound for that namespace, not an exact count: drops
 * of that interval seen before the switch-off count in it too (the tracepoint sees every namespace, so the events
 * counted meanwhile cannot be taken off), and drops no counter names are not in it.
 */
import type { Logger } from 'pino';
import { openKeptFiles, type KeptFile, type Tracefs } from '../../../kernel/tracefs/tracefs';
import type { GatheringFiles } from '../procfs-reads';
import { counterDropSamples, readCounterInputs } from './counters';
import { KFREE_SKB_EVENT } from './kfree-skb';

/** One control file of the instance and the value stream mode keeps in it. */
export interface ExpectedControl {
  /** Relative to the tracefs mount, e.g. `instances/kappie/events/skb/kfree_skb/enable`. */
  readonly file: string;
  readonly value: string;
}

/** The control files stream mode depends on, in the order they are restored (filter before the switch). */
export function streamModeControls(instance: string, filter: string): ExpectedControl[] {
  const eventDir = `${instance}/events/${KFREE_SKB_EVENT}`;
  return [
    { file: `${eventDir}/filter`, value: filter },
    { file: `${eventDir}/enable`, value: '1' },
    { file: `${instance}/tracing_on`, value: '1' },
  ];
}

/**
 * The controls whose content differs from what is expected, with what they hold (pure). An `enable` file reads `1*`
 * while a trigger holds the event in soft mode (our netfilter stack trigger): the `*` is not part of the switch.
 */
export function changedControls(
  controls: readonly ExpectedControl[],
  read: (file: string) => string,
): { control: ExpectedControl; found: string }[] {
  return controls
    .map((control) => ({ control, found: read(control.file).trim() }))
    .filter(({ control, found }) => found.replace(/\*$/, '') !== control.value);
}

/**
 * The sum of the kernel drop counters (counters.ts: the collector's namespace), packets. The files the snmp source
 * reads too are parsed once per gathering (procfs-reads.ts), so keeping this baseline at every gathering costs only
 * softnet_stat and nf_conntrack. Undefined where the counters cannot be read (a recorded tree).
 */
function counterSum(ctx: GatheringFiles): number | undefined {
  try {
    return counterDropSamples(readCounterInputs(ctx)).reduce((sum, row) => sum + row.value, 0);
  } catch {
    return undefined; // no counters here: gaps are still restored and logged, not estimated
  }
}

/** The check of one running instance; its baselines live in this closure. */
export interface InstanceStateGuard {
  /** Checks and restores the controls; call before the mode's collect, with the gathering's files. */
  beforeCollect(ctx: GatheringFiles): void;
  /** Drops estimated lost in gaps so far (an upper bound per gap, see the module comment). */
  lostEvents(): number;
  /** Closes the control files it keeps open (before the instance is removed: they keep it busy). */
  close(): void;
}

/**
 * The guard of stream mode's instance: `controls` from `streamModeControls`, `ctx` (the gathering that starts stream
 * mode) for the first baseline of the kernel drop counters that estimate a gap (read again at every gathering), `log`
 * for the warning that names each changed file and what it held.
 */
export function createInstanceStateGuard(
  tracefs: Tracefs,
  controls: readonly ExpectedControl[],
  ctx: GatheringFiles,
  log: Logger,
): InstanceStateGuard {
  // Kept open: read at every gathering (Tracefs.openKept).
  const opened = openKeptFiles(
    tracefs,
    controls.map(({ file }) => file),
  );
  const files = new Map<string, KeptFile>(controls.map(({ file }, index) => [file, opened[index]!]));
  let lastCounters = counterSum(ctx);
  let lost = 0;
  return {
    beforeCollect(gathering) {
      const now = counterSum(gathering);
      const before = lastCounters;
      lastCounters = now;
      const changed = changedControls(controls, (file) => files.get(file)!.read());
      if (changed.length === 0) return;
      if (now !== undefined && before !== undefined) lost += Math.max(0, now - before);
      for (const { control } of changed) tracefs.write(control.file, control.value);
      log.warn(
        { changed: changed.map(({ control, found }) => `${tracefs.pathOf(control.file)}: ${found}`) },
        'the tracefs instance had been changed from outside (an event switched off, a reset): restored it; drops ' +
          'in between were not seen and are counted as lost events (estimated from the kernel drop counters)',
      );
    },
    lostEvents: () => lost,
    close() {
      files.forEach((file) => file.close());
      files.clear();
    },
  };
}
