/**
 * What the guest suite tells the host over the serial console: one line per event, `KAPPIE-VM <json>`, among
 * whatever else the console carries (kernel messages, the guest's own log). Pure: used on both sides.
 */

export const REPORT_PREFIX = 'KAPPIE-VM ';

/** What the guest found out about its kernel, for the README's kernel table. */
export interface KernelFacts {
  readonly release: string;
  /** How the collector counted kfree_skb drops there by default. */
  readonly dropsPath: 'hist' | 'stream' | 'none';
  /** Whether kappie_drop_bytes was exported, and by which probe. */
  readonly dropBytes: boolean;
  readonly kprobe?: { readonly target: string; readonly access: string };
  /** Named kfree_skb drop reasons in the kernel's print table. */
  readonly reasons: number;
}

export type GuestEvent =
  | {
      readonly event: 'test';
      readonly name: string;
      readonly ok: boolean;
      readonly ms: number;
      readonly error?: string;
    }
  | { readonly event: 'facts'; readonly facts: KernelFacts }
  /** A kernel file recorded for the fixtures (`--record`), base64. */
  | { readonly event: 'file'; readonly name: string; readonly base64: string }
  | { readonly event: 'done'; readonly passed: number; readonly failed: number };

export function formatEvent(event: GuestEvent): string {
  return `${REPORT_PREFIX}${JSON.stringify(event)}`;
}

export interface ConsoleReport {
  readonly tests: readonly Extract<GuestEvent, { event: 'test' }>[];
  readonly facts: KernelFacts | undefined;
  readonly done: Extract<GuestEvent, { event: 'done' }> | undefined;
  /** Files the guest recorded, by name. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** Report lines that could not be read (a kernel message written into the middle of one, a cut console). */
  readonly unreadable: readonly string[];
}

/** The report in a console transcript; tolerant of carriage returns and of anything before the prefix. */
export function parseConsole(transcript: string): ConsoleReport {
  const tests: Extract<GuestEvent, { event: 'test' }>[] = [];
  let facts: KernelFacts | undefined;
  let done: Extract<GuestEvent, { event: 'done' }> | undefined;
  const unreadable: string[] = [];
  const files = new Map<string, Buffer>();
  for (const rawLine of transcript.split('\n')) {
    const at = rawLine.indexOf(REPORT_PREFIX);
    if (at < 0) continue;
    const json = rawLine.slice(at + REPORT_PREFIX.length).replace(/\r$/, '');
    let event: GuestEvent;
    try {
      event = JSON.parse(json) as GuestEvent;
    } catch {
      unreadable.push(rawLine);
      continue;
    }
    if (event.event === 'test' && typeof event.name === 'string' && typeof event.ok === 'boolean') tests.push(event);
    else if (event.event === 'facts') facts = event.facts;
    else if (event.event === 'done') done = event;
    else if (event.event === 'file' && /^[\w.-]+$/.test(event.name))
      files.set(event.name, Buffer.from(event.base64, 'base64'));
    else unreadable.push(rawLine);
  }
  return { tests, facts, done, files, unreadable };
}
