/**
 * A tracefs event `format` file (`events/<system>/<event>/format`): the fields with their offsets and sizes, the
 * `print fmt`, and the `__print_symbolic` tables in it. The kfree_skb drop-reason names come from that table in the
 * RUNNING kernel, because the numbers of `enum skb_drop_reason` change between kernels. A pure parser and its read.
 */
import { ParseError } from '../../errors';
import type { Tracefs } from './tracefs';

export interface EventField {
  /** C type as the kernel wrote it, e.g. `void *`, `enum skb_drop_reason`. */
  readonly type: string;
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
}

export interface EventFormat {
  readonly name: string;
  readonly id: number;
  /** Fields after the common_* header fields, in order. */
  readonly fields: readonly EventField[];
  readonly printFmt: string;
  /** `__print_symbolic(REC->x, ...)` tables by field name: number -> symbol. */
  readonly symbols: ReadonlyMap<string, ReadonlyMap<number, string>>;
}

const FIELD_LINE = /^\tfield:(.+?)\s*;\toffset:(\d+);\tsize:(\d+);\tsigned:([01]);$/;

function parseField(line: string, file: string, lineNumber: number): EventField {
  const match = FIELD_LINE.exec(line);
  if (!match) throw new ParseError(file, `expected a "field:TYPE NAME; offset:N; size:N; signed:N;" line`, lineNumber);
  const declaration = match[1]!.trim();
  // The name is the last identifier; array fields carry `[N]` after it (`char comm[16]`).
  const nameMatch = /([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?$/.exec(declaration);
  if (!nameMatch || nameMatch.index === 0) {
    throw new ParseError(file, `cannot tell type from name in ${JSON.stringify(declaration)}`, lineNumber);
  }
  return {
    type: declaration.slice(0, nameMatch.index).trim() + (nameMatch[2] ?? ''),
    name: nameMatch[1]!,
    offset: Number(match[2]),
    size: Number(match[3]),
    signed: match[4] === '1',
  };
}

/**
 * The `{ N, "NAME" }` pairs of every `__print_symbolic(REC->field, ...)` in a print fmt. Numbers may be decimal or
 * hex (`0x1f`), some kernels print them negative for signed enums.
 */
export function parsePrintSymbolic(printFmt: string, file = 'format'): Map<string, Map<number, string>> {
  const tables = new Map<string, Map<number, string>>();
  const call = /__print_symbolic\(\s*REC->([A-Za-z_][A-Za-z0-9_]*)\s*,/g;
  let match: RegExpExecArray | null;
  while ((match = call.exec(printFmt)) !== null) {
    const field = match[1]!;
    const table = new Map<number, string>();
    const pair = /\s*\{\s*(-?)(0x[0-9a-fA-F]+|\d+)\s*,\s*"([^"]*)"\s*\}\s*,?/y;
    pair.lastIndex = call.lastIndex;
    let entry: RegExpExecArray | null;
    while ((entry = pair.exec(printFmt)) !== null) {
      const number = (entry[1] === '-' ? -1 : 1) * Number(entry[2]);
      if (!Number.isSafeInteger(number)) throw new ParseError(file, `symbol value ${entry[2]} is not an integer`);
      if (!/^[A-Za-z0-9_]+$/.test(entry[3]!)) {
        throw new ParseError(file, `symbol ${JSON.stringify(entry[3])} for ${field} is not an identifier`);
      }
      table.set(number, entry[3]!);
      call.lastIndex = pair.lastIndex;
    }
    if (!/^\s*\)/.test(printFmt.slice(call.lastIndex))) {
      throw new ParseError(file, `__print_symbolic table of ${field} does not end with ")": truncated or unknown form`);
    }
    if (table.size === 0) throw new ParseError(file, `__print_symbolic table of ${field} is empty`);
    tables.set(field, table);
  }
  return tables;
}

export function parseEventFormat(text: string, file = 'format'): EventFormat {
  if (!text.endsWith('\n')) throw new ParseError(file, 'does not end with a newline: the text is truncated');
  const lines = text.split('\n');
  lines.pop();
  let name: string | undefined;
  let id: number | undefined;
  let printFmt: string | undefined;
  const fields: EventField[] = [];
  let inFields = false;
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.startsWith('name: ')) {
      name = line.slice(6).trim();
    } else if (line.startsWith('ID: ')) {
      if (!/^ID: \d+$/.test(line)) throw new ParseError(file, 'ID is not a number', lineNumber);
      id = Number(line.slice(4));
    } else if (line === 'format:') {
      inFields = true;
    } else if (line.startsWith('print fmt: ')) {
      printFmt = line.slice('print fmt: '.length);
      inFields = false;
    } else if (inFields && line.startsWith('\tfield:')) {
      const field = parseField(line, file, lineNumber);
      if (!field.name.startsWith('common_')) fields.push(field);
    } else if (line.trim() !== '') {
      throw new ParseError(file, `unexpected line ${JSON.stringify(line.slice(0, 60))}`, lineNumber);
    }
  });
  if (name === undefined || name === '') throw new ParseError(file, 'no "name:" line');
  if (id === undefined) throw new ParseError(file, 'no "ID:" line');
  if (printFmt === undefined) throw new ParseError(file, 'no "print fmt:" line');
  return { name, id, fields, printFmt, symbols: parsePrintSymbolic(printFmt, file) };
}

/**
 * The format of event `system/name` (e.g. `skb/kfree_skb`) as the running kernel describes it, or undefined when the
 * kernel has no such event (ENOENT). Throws ParseError for a format it cannot read, and any other file system error as
 * it is (EACCES when not root: tracefs is mode 0700, which must not read as "this kernel has no such event").
 */
export function readEventFormat(tracefs: Tracefs, event: string): EventFormat | undefined {
  const file = `events/${event}/format`;
  let text: string;
  try {
    text = tracefs.read(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseEventFormat(text, tracefs.pathOf(file));
}
