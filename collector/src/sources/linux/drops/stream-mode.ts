/**
 * Stream mode, where the kernel has no hist triggers (our CI kernel): kfree_skb is enabled in our instance with the
 * in-kernel filter, and its events are read without blocking every POLL_MS and at each scrape; totals accumulate in a
 * bounded tally. Netfilter drops are followed by a kernel stack that gives their direction (netfilter-stacks.ts).
 * Lost events are the instance's per-CPU ring buffer losses plus the records we could not read.
 *
 * Two readers (--drop-stream-format), the same counts:
 *  - `trace_pipe_raw` (raw-stream-reader.ts): every CPU's binary ring-buffer pages, decoded here. The kernel formats
 *    nothing; about half the CPU per drop of the text reader (bench/RESULTS.md, drop-storm).
 *  - `trace_pipe` (stream-decoder.ts): the kernel prints each event as a text line, which we parse. The fallback
 *    where raw pages cannot be read (see openRawStreamReader); the log and the status note say which one runs and why.
 */
import { createInstanceLostEvents, type InstanceLostEvents } from '../../../kernel/tracefs/ring-buffer-stats';
import { tryWrite } from '../../../kernel/tracefs/tracefs';
import { describeError } from '../../../errors';
import type { EventsMode, EventsModeSetup } from './events-mode';
import { KFREE_SKB_EVENT, NOT_DROPS } from './kfree-skb';
import { createStackGovernor, netfilterCondition, stackTrigger, type StackGovernor } from './netfilter-stacks';
import { SourceUnavailableError } from '../../../errors';
import { openRawStreamReader } from './raw-stream-reader';
import { DropStream } from './stream-decoder';
import { streamReaderOver, type StreamReader } from './stream-reader';
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
  const { reader, textBecause } = openReader(setup, tally, netfilterStacks);
  let instanceLost: InstanceLostEvents;
  try {
    instanceLost = createInstanceLostEvents(tracefs, instance);
  } catch (error) {
    reader.close();
    throw error;
  }
  const governor: StackGovernor | undefined = netfilterStacks
    ? createStackGovernor(switchStacks, POLL_MS, Date.now(), log)
    : undefined;
  const drain = (): void => {
    try {
      reader.drain();
    } catch (error) {
      log.warn({ err: describeError(error) }, `reading ${reader.format} failed`);
    }
  };
  const timer = setInterval(() => {
    drain();
    if (governor) reader.setNetfilterStacks(governor.adapt(reader.netfilterEvents, Date.now()));
  }, POLL_MS).unref();
  log.info(
    {
      instance: tracefs.pathOf(instance),
      mode: 'stream',
      reader: reader.format,
      ...(textBecause === undefined ? {} : { rawUnavailable: textBecause }),
      reason: hasReason,
      netfilterStacks,
      filter,
    },
    `streaming kfree_skb drops from tracefs instance ${tracefs.pathOf(instance)} through ${reader.format}` +
      (textBecause === undefined ? '' : ` (${textBecause})`),
  );
  const readerNote =
    reader.format === 'trace_pipe_raw'
      ? 'events read from trace_pipe_raw (binary)'
      : `events read from trace_pipe (text)${textBecause === undefined ? '' : `: ${textBecause}`}`;

  let lost = 0;
  return {
    mode: 'stream',
    countsBytes: false,
    collect() {
      drain();
      lost = instanceLost.read() + reader.parseErrors;
      return { dropCount: tally.countSamples() };
    },
    lostEvents: () => lost,
    note: () =>
      reader.lastParseError
        ? `${readerNote}; unreadable trace ${reader.format === 'trace_pipe' ? 'lines' : 'records'} (counted as lost): ${reader.lastParseError}`
        : readerNote,
    streamedEvents: () => reader.events,
    close() {
      clearInterval(timer);
      reader.close();
      instanceLost.close();
    },
  };
}

/**
 * The reader --drop-stream-format asks for: raw when it can be read (`auto`) or must be (`raw`: its absence throws),
 * else text, with why raw is not used (`textBecause`, undefined when text was asked for).
 */
function openReader(
  setup: EventsModeSetup,
  tally: DropTally,
  netfilterStacks: boolean,
): { reader: StreamReader; textBecause: string | undefined } {
  let textBecause: string | undefined;
  if (setup.streamFormat !== 'text') {
    try {
      return { reader: openRawStreamReader(setup, tally, netfilterStacks), textBecause: undefined };
    } catch (error) {
      if (setup.streamFormat === 'raw' || !(error instanceof SourceUnavailableError)) throw error;
      textBecause = error.message;
    }
  }
  return { reader: openTextStreamReader(setup, tally, netfilterStacks), textBecause };
}

/** The text reader: the instance's trace_pipe, lines parsed by DropStream. */
function openTextStreamReader(setup: EventsModeSetup, tally: DropTally, netfilterStacks: boolean): StreamReader {
  const stream = new DropStream(tally, { ignoredReasons: NOT_DROPS, netfilterStacks, symbols: setup.symbols });
  const pipe = setup.tracefs.openPipe(`${setup.instance}/trace_pipe`);
  return streamReaderOver('trace_pipe', stream, {
    drain() {
      stream.push(pipe.readLines(MAX_BYTES_PER_DRAIN));
      stream.settle();
    },
    close: () => pipe.close(),
  });
}
