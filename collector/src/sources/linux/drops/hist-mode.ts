/**
 * Hist mode, where the kernel has hist triggers (`events/skb/kfree_skb/hist` exists: CONFIG_HIST_TRIGGERS): the kernel
 * counts kfree_skb drops per (reason, location function) in a table of our instance, and each scrape reads the table.
 * Where kprobe events exist too, a kprobe on the drop function sums `skb->len` per (reason, caller) in a second
 * table: kappie_drop_bytes (kprobe-bytes.ts; by BTF argument name or at the kernel's BTF offsets, kprobe-args.ts).
 * Netfilter drops have direction `unknown` here (no stacks).
 *
 * Not on our CI kernel (no hist, no kprobe events): unit-tested on a directory of recorded tracefs files, and run on
 * Debian's 6.1 and 6.12 kernels under qemu (kernels/, `npm run test:kernels`).
 */
import { DIRECTION } from '../../../catalog';
import { SourceUnavailableError } from '../../../errors';
import { readHist, type HistTable } from '../../../kernel/tracefs/hist';
import { tryWrite, type Tracefs } from '../../../kernel/tracefs/tracefs';
import type { Samples } from '../../../source';
import type { EventsMode, EventsModeSetup } from './events-mode';
import { firstDropReason, KFREE_SKB_EVENT, NOT_DROPS, reasonName, reasonNames } from './kfree-skb';
import { kprobeArgAccess, kprobeFetchResolver } from './kprobe-args';
import {
  addKprobeBytes,
  KPROBE_EVENT,
  KPROBE_GROUP,
  KPROBE_TARGETS,
  KPROBE_TARGETS_WITHOUT_REASON,
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

/**
 * Installs the kprobe and its hist trigger for bytes; false (and why, logged) when the kernel does not offer it.
 * How the probe reaches its arguments comes from the kernel's README (kprobe-args.ts): by BTF name, or at the
 * offsets of the kernel's own BTF (read only then).
 */
function installKprobeBytes(setup: EventsModeSetup): boolean {
  const { tracefs, instance, format, hasReason, readBtf, log } = setup;
  if (!tracefs.exists(KPROBE_EVENTS)) return false;
  const access = kprobeArgAccess(tracefs.exists('README') ? tracefs.read('README') : '');
  if (!access) {
    log.info('kprobe_events takes neither BTF argument names nor $arg offsets here: kappie_drop_bytes not counted');
    return false;
  }
  const firstDrop = hasReason ? firstDropReason(format) : undefined;
  if (hasReason && firstDrop === undefined) return false;
  removeKprobeBytes(tracefs);
  const fetchFor = kprobeFetchResolver(access, readBtf, hasReason);
  const problems: string[] = [];
  const targets = hasReason ? KPROBE_TARGETS : KPROBE_TARGETS_WITHOUT_REASON;
  const target = targets.find((fn) => {
    const choice = fetchFor(fn);
    if ('problem' in choice) problems.push(choice.problem);
    return 'fetch' in choice && tryWrite(tracefs, KPROBE_EVENTS, kprobeDefinition(fn, choice.fetch), 'append');
  });
  if (!target) {
    log.info({ problems }, 'kprobe events exist but no drop function could be probed: kappie_drop_bytes not counted');
    return false;
  }
  const trigger = `${instance}/events/${KPROBE_EVENT_DIR}/trigger`;
  if (!tryWrite(tracefs, trigger, kprobeHistTrigger(firstDrop), 'append')) {
    log.info({ target }, 'the kernel refused the hist trigger on our kprobe: kappie_drop_bytes not counted');
    removeKprobeBytes(tracefs);
    return false;
  }
  log.info({ target, access }, `counting dropped bytes with a kprobe on ${target}`);
  return true;
}

/** Installs the hist trigger (and the kprobe for bytes where possible). Throws when the kernel refuses the trigger. */
export function startHistMode(setup: EventsModeSetup): EventsMode {
  const { tracefs, instance, format, hasReason, filter, log } = setup;
  const eventDir = `${instance}/events/${KFREE_SKB_EVENT}`;
  tracefs.write(`${eventDir}/trigger`, kfreeSkbHistTrigger(hasReason, filter));
  const countsBytes = installKprobeBytes(setup);
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
      if (countsBytes) {
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
