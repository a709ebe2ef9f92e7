/**
 * Stream mode, where the kernel has no hist triggers (our CI kernel): kfree_skb is enabled in our instance with the
 * in-kernel filter, and its `trace_pipe` is read without blocking every POLL_MS and at each scrape; totals accumulate
 * in a bounded tally. Netfilter drops are followed by a kernel stack that gives their direction (netfilter-stacks.ts).
 * Lost events are the instance's per-CPU ring buffer losses plus the lines we could not read.
 */
import { readInstanceLostEvents } from '../../../kernel/tracefs/ring-buffer-stats';
import { tryWrite } from '../../../kernel/tracefs/tracefs';
import { describeError } from '../../../errors';
import type { EventsMode, EventsModeSetup } from './events-mode';
import { KFREE_SKB_EVENT, NOT_DROPS } from './kfree-skb';
import { createStackGovernor, netfilterCondition, stackTrigger, type StackGovernor } from './netfilter-stacks';
import { DropStream } from './stream-decoder';
import { DropTally } from './tally';

/** How often the stream is drained between scrapes. */
export const POLL_MS = 100;
/** Upper bound of one drain, so a storm cannot hold the event loop: what is left waits for the next poll. */
const MAX_BYTES_PER_DRAIN = 16 << 20;

/**
 * Filter, netfilter stacks, enable, then a poll timer on the instance's trace_pipe. Throws when the kernel refuses
 * the filter or the switch; the caller removes the instance.
 */
export function startStreamMode(setup: EventsModeSetup): EventsMode {
  const { tracefs, instance, format, hasReason, filter, symbols, log } = setup;
  const eventDir = `${instance}/events/${KFREE_SKB_EVENT}`;
  tracefs.write(`${eventDir}/filter`, filter);
  const condition = netfilterCondition(format, symbols);
  const switchStacks = (on: boolean) =>
    condition !== undefined && tryWrite(tracefs, `${eventDir}/trigger`, stackTrigger(condition, on), 'append');
  const netfilterStacks = switchStacks(true);
  tracefs.write(`${eventDir}/enable`, '1');

  const tally = new DropTally();
  const stream = new DropStream(tally, { ignoredReasons: NOT_DROPS, netfilterStacks, symbols });
  const pipe = tracefs.openPipe(`${instance}/trace_pipe`);
  const governor: StackGovernor | undefined = netfilterStacks
    ? createStackGovernor(switchStacks, POLL_MS, Date.now(), log)
    : undefined;
  const drain = (): void => {
    try {
      stream.push(pipe.readLines(MAX_BYTES_PER_DRAIN));
      stream.settle();
    } catch (error) {
      log.warn({ err: describeError(error) }, 'reading trace_pipe failed');
    }
  };
  const timer = setInterval(() => {
    drain();
    if (governor) stream.setNetfilterStacks(governor.adapt(stream.netfilterEvents, Date.now()));
  }, POLL_MS).unref();
  log.info(
    { instance: tracefs.pathOf(instance), mode: 'stream', reason: hasReason, netfilterStacks, filter },
    `streaming kfree_skb drops from tracefs instance ${tracefs.pathOf(instance)}`,
  );

  let lost = 0;
  return {
    mode: 'stream',
    countsBytes: false,
    collect() {
      drain();
      lost = readInstanceLostEvents(tracefs, instance) + stream.parseErrors;
      return { dropCount: tally.countSamples() };
    },
    lostEvents: () => lost,
    note: () =>
      stream.lastParseError ? `unreadable trace lines (counted as lost): ${stream.lastParseError}` : undefined,
    streamedEvents: () => stream.events,
    close() {
      clearInterval(timer);
      pipe.close();
    },
  };
}
