/**
 * Hist mode, where the kernel has hist triggers (`events/skb/kfree_skb/hist` exists: CONFIG_HIST_TRIGGERS): the kernel
 * counts kfree_skb drops per (reason, location function) in a table of our instance, and each scrape reads the table.
 * Where kprobe events with BTF arguments exist too, a kprobe on the drop function sums `skb->len` per (reason,
 * caller) in a second table: kappie_drop_bytes. Netfilter drops have direction `unknown` here (no stacks).
 *
 * Not on our CI kernel (no hist, no kprobe events): unit-tested on a directory of recorded tracefs files.
 */
import type { Logger } from 'pino';
import { DIRECTION } from '../../../catalog';
import { SourceUnavailableError } from '../../../errors';
import type { EventFormat } from '../../../kernel/tracefs/format';
import { readHist, type HistTable } from '../../../kernel/tracefs/hist';
import { tryWrite, type Tracefs } from '../../../kernel/tracefs/tracefs';
import type { Samples } from '../../../source';
import type { EventsMode, EventsModeSetup } from './events-mode';
import { firstDropReason, KFREE_SKB_EVENT, NOT_DROPS, reasonName, reasonNames } from './kfree-skb';
import {
  addKprobeBytes,
  KPROBE_EVENT,
  KPROBE_GROUP,
  KPROBE_TARGETS,
  kprobeBtfSupported,
  kprobeDefinition,
  kprobeHistTrigger,
  kprobeRemoval,
} from './kprobe-bytes';
import { derivedReason, dropDirection } from './locations';
import { DropTally } from './tally';

/** The kprobe event, relative to an `events/` directory. */
export const KPROBE_EVENT_DIR = `${KPROBE_GROUP}/${KPROBE_EVENT}`;
const KPROBE_EVENTS = 'kprobe_events';

/** The trigger we install on kfree_skb. `withReason` is false on kernels without the field (5.15). */
export function kfreeSkbHistTrigger(withReason: boolean, filter: string | undefined): string {
  const keys = withReason ? 'reason,location.sym' : 'location.sym';
  return `hist:keys=${keys}:vals=hitcount:size=4096${filter ? ` if ${filter}` : ''}`;
}

/**
 * Drop totals by (reason, direction) from the kfree_skb table (pure). The kernel's table is cumulative, so a fresh
 * tally per scrape gives totals that only grow. Reasons that are not drops are skipped (the filter already keeps
 * them out; this also holds when a kernel names them differently).
 */
export function histDropTally(table: HistTable, names: ReadonlyMap<number, string> | undefined): DropTally {
  const tally = new DropTally();
  for (const entry of table.entries) {
    const reasonKey = entry.keys['reason'];
    const locationKey = entry.keys['location'];
    const fn = locationKey && 'symbol' in locationKey ? locationKey.symbol : undefined;
    let reason: string;
    if (reasonKey && 'number' in reasonKey) {
      reason = reasonName(names, reasonKey.number);
      if (NOT_DROPS.has(reason)) continue;
    } else {
      reason = derivedReason(fn);
    }
    tally.add(reason, dropDirection(reason, fn) ?? DIRECTION.unknown, entry.values['hitcount'] ?? 0);
  }
  return tally;
}

/** Removes our kprobe event (left by a crashed run, or ours at stop); nothing when the kernel has no kprobe events. */
export function removeKprobeBytes(tracefs: Tracefs): void {
  if (tracefs.exists(KPROBE_EVENTS)) tryWrite(tracefs, KPROBE_EVENTS, kprobeRemoval(), 'append');
}

/** Installs the kprobe and its hist trigger for bytes; false (and why, logged) when the kernel does not offer it. */
function installKprobeBytes(tracefs: Tracefs, instance: string, format: EventFormat, log: Logger): boolean {
  const readme = tracefs.exists('README') ? tracefs.read('README') : '';
  if (!kprobeBtfSupported(readme, tracefs.exists(KPROBE_EVENTS))) return false;
  const firstDrop = firstDropReason(format);
  if (firstDrop === undefined) return false;
  removeKprobeBytes(tracefs);
  const target = KPROBE_TARGETS.find((fn) => tryWrite(tracefs, KPROBE_EVENTS, kprobeDefinition(fn), 'append'));
  if (!target) {
    log.info('kprobe events exist but no drop function could be probed: kappie_drop_bytes stays limited');
    return false;
  }
  const trigger = `${instance}/events/${KPROBE_EVENT_DIR}/trigger`;
  if (!tryWrite(tracefs, trigger, kprobeHistTrigger(firstDrop), 'append')) {
    removeKprobeBytes(tracefs);
    return false;
  }
  log.info({ target }, `counting dropped bytes with a kprobe on ${target}`);
  return true;
}

/** Installs the hist trigger (and the kprobe for bytes where possible). Throws when the kernel refuses the trigger. */
export function startHistMode(setup: EventsModeSetup): EventsMode {
  const { tracefs, instance, format, hasReason, filter, log } = setup;
  const eventDir = `${instance}/events/${KFREE_SKB_EVENT}`;
  tracefs.write(`${eventDir}/trigger`, kfreeSkbHistTrigger(hasReason, filter));
  const countsBytes = installKprobeBytes(tracefs, instance, format, log);
  log.info(
    { instance: tracefs.pathOf(instance), mode: 'hist', reason: hasReason },
    'counting kfree_skb drops in the kernel (hist trigger)',
  );
  const names = reasonNames(format);
  let lost = 0;
  return {
    mode: 'hist',
    countsBytes,
    collect() {
      const histFile = `${eventDir}/hist`;
      const [table] = readHist(tracefs, histFile);
      if (!table)
        throw new SourceUnavailableError(`${tracefs.pathOf(histFile)} shows no table: the hist trigger is gone`);
      const tally = histDropTally(table, names);
      let dropped = table.dropped;
      if (countsBytes && names) {
        const [bytesTable] = readHist(tracefs, `${instance}/events/${KPROBE_EVENT_DIR}/hist`);
        if (bytesTable) {
          addKprobeBytes(bytesTable, names, tally);
          dropped += bytesTable.dropped;
        }
      }
      lost = dropped;
      const samples: Samples = { dropCount: tally.countSamples() };
      if (countsBytes) samples.dropBytes = tally.byteSamples();
      return samples;
    },
    lostEvents: () => lost,
    note: () => undefined,
    streamedEvents: () => 0,
    close: () => undefined,
  };
}
