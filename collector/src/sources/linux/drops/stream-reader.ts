/**
 * What stream mode reads drops through, whichever format it reads (raw-stream-reader.ts for the binary per-CPU
 * pages, stream-mode.ts's text reader for trace_pipe): the reader drains and closes its pipes, and forwards the
 * counts of its decoder (RawDropStream or DropStream).
 */

export interface StreamReader {
  /** What is read: the binary per-CPU pages or the text pipe (the status page and the log say it). */
  readonly format: 'trace_pipe_raw' | 'trace_pipe';
  /** Reads what the kernel holds now (bounded), decodes it into the tally, then settles held netfilter drops. */
  drain(): void;
  /** Drops read so far. */
  readonly events: number;
  /** Netfilter drops read so far (the stack governor's input). */
  readonly netfilterEvents: number;
  /** Records, pages or lines that could not be decoded (counted as lost events). */
  readonly parseErrors: number;
  readonly lastParseError: string | undefined;
  setNetfilterStacks(on: boolean): void;
  /** Closes the pipes (before the instance is removed: an open pipe keeps it busy). */
  close(): void;
}

/** The counts and the stack switch both decoders have, which a reader forwards. */
type DropDecoderCounts = Pick<
  StreamReader,
  'events' | 'netfilterEvents' | 'parseErrors' | 'lastParseError' | 'setNetfilterStacks'
>;

/** A reader of `format` that drains and closes as given, its counts read live from `decoder`. */
export function streamReaderOver(
  format: StreamReader['format'],
  decoder: DropDecoderCounts,
  pipes: Pick<StreamReader, 'drain' | 'close'>,
): StreamReader {
  return {
    format,
    drain: pipes.drain,
    close: pipes.close,
    get events() {
      return decoder.events;
    },
    get netfilterEvents() {
      return decoder.netfilterEvents;
    },
    get parseErrors() {
      return decoder.parseErrors;
    },
    get lastParseError() {
      return decoder.lastParseError;
    },
    setNetfilterStacks: (on) => decoder.setNetfilterStacks(on),
  };
}
