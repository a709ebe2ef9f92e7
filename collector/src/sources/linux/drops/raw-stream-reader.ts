/**
 * Stream mode's binary reader: every CPU's `per_cpu/cpuN/trace_pipe_raw` of our instance, read without blocking,
 * page by page, into the raw decoder (raw-stream-decoder.ts). `openRawStreamReader` checks everything it needs first
 * and throws SourceUnavailableError naming what is missing, so stream mode can fall back to the text trace_pipe and
 * say why.
 */
import { SourceUnavailableError, describeError } from '../../../errors';
import { kernelStackRecordLayout, kfreeSkbRecordLayout } from '../../../kernel/tracefs/binary-records';
import { readEventFormat } from '../../../kernel/tracefs/format';
import { pageLayoutSupported, parseHeaderPage } from '../../../kernel/tracefs/ring-buffer-page';
import type { RawPipe } from '../../../kernel/tracefs/trace-pipe-raw';
import type { EventsModeSetup } from './events-mode';
import { NOT_DROPS, reasonNames } from './kfree-skb';
import { keepPathFunction, RawDropStream } from './raw-stream-decoder';
import { streamReaderOver, type StreamReader } from './stream-reader';
import type { DropTally } from './tally';

/**
 * Pages read from one CPU per drain at most: twice the instance's per-CPU buffer (2048 KiB of 4 KiB pages, ~47k
 * drops, plus the reader's own page), so one drain empties a full buffer, and a storm still cannot hold the event
 * loop; what is left waits for the next poll.
 */
const MAX_PAGES_PER_CPU_DRAIN = 1024;
/** A read returns one page whatever the count; 64 KiB covers every page size (4 KiB, arm64's 64 KiB). */
const MIN_READ_BUFFER = 64 << 10;

function unavailable(why: string): never {
  throw new SourceUnavailableError(`trace_pipe_raw cannot be read: ${why}`);
}

/**
 * Opens the binary reader of the instance in `setup`, events decoded into `tally`, stacks expected after netfilter
 * drops when `netfilterStacks`. Throws SourceUnavailableError when this process or kernel cannot: a big-endian CPU,
 * no per-CPU trace_pipe_raw, an unknown page or record layout, or kallsyms without addresses (the records carry raw
 * locations, named through it). Nothing stays open after a throw.
 */
export function openRawStreamReader(setup: EventsModeSetup, tally: DropTally, netfilterStacks: boolean): StreamReader {
  const { tracefs, instance, format } = setup;
  if (!pageLayoutSupported()) unavailable('big-endian CPU (the page decoder reads little-endian bit fields)');
  const perCpu = `${instance}/per_cpu`;
  const cpus = tracefs.exists(perCpu)
    ? tracefs
        .list(perCpu)
        .filter((name) => /^cpu\d+$/.test(name) && tracefs.exists(`${perCpu}/${name}/trace_pipe_raw`))
        .map((name) => Number(name.slice(3)))
    : [];
  if (cpus.length === 0) unavailable(`no ${tracefs.pathOf(`${perCpu}/cpuN/trace_pipe_raw`)}`);
  let layouts;
  try {
    const page = parseHeaderPage(tracefs.read('events/header_page'), tracefs.pathOf('events/header_page'));
    const drop = kfreeSkbRecordLayout(format, tracefs.pathOf('events/skb/kfree_skb/format'));
    let stack;
    if (netfilterStacks) {
      const stackFormat = readEventFormat(tracefs, 'ftrace/kernel_stack');
      if (!stackFormat) unavailable('no events/ftrace/kernel_stack/format (the layout of stack records)');
      stack = kernelStackRecordLayout(stackFormat, tracefs.pathOf('events/ftrace/kernel_stack/format'));
    }
    layouts = { page, drop, stack };
  } catch (error) {
    if (error instanceof SourceUnavailableError) throw error;
    unavailable(describeError(error));
  }
  let symbols;
  try {
    symbols = setup.symbols ?? setup.readKernelSymbols(keepPathFunction);
  } catch (error) {
    unavailable(`cannot read /proc/kallsyms (${describeError(error)})`);
  }
  if (symbols.size === 0) {
    unavailable(
      '/proc/kallsyms shows no addresses (kptr_restrict, or no CAP_SYSLOG): drop locations would stay unnamed',
    );
  }
  const subbufferKb = tracefs.exists(`${instance}/buffer_subbuf_size_kb`)
    ? Number(tracefs.read(`${instance}/buffer_subbuf_size_kb`).trim())
    : 0;
  const buffer = Buffer.alloc(Math.max(MIN_READ_BUFFER, Number.isSafeInteger(subbufferKb) ? subbufferKb << 10 : 0));
  const stream = new RawDropStream(tally, layouts, {
    reasonNames: reasonNames(format),
    ignoredReasons: NOT_DROPS,
    netfilterStacks,
    symbols,
  });
  const pipes: { cpu: number; pipe: RawPipe }[] = [];
  try {
    for (const cpu of cpus) pipes.push({ cpu, pipe: tracefs.openRawPipe(`${perCpu}/cpu${cpu}/trace_pipe_raw`) });
  } catch (error) {
    for (const { pipe } of pipes) pipe.close();
    unavailable(`opening it failed (${describeError(error)})`);
  }
  return streamReaderOver('trace_pipe_raw', stream, {
    drain() {
      for (const { cpu, pipe } of pipes) {
        for (let pages = 0; pages < MAX_PAGES_PER_CPU_DRAIN; pages += 1) {
          const length = pipe.readPage(buffer);
          if (length === 0) break;
          stream.pushPage(buffer, length, cpu);
        }
      }
      stream.settle();
    },
    close() {
      stream.flushAll();
      for (const { pipe } of pipes) pipe.close();
    },
  });
}
