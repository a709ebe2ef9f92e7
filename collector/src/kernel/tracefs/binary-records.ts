/**
 * Where the fields of the two events the drop source reads from trace_pipe_raw sit in their binary records, from the
 * running kernel's `format` files (never from a kernel version):
 *
 *  - skb:kfree_skb (`events/skb/kfree_skb/format`): `location` (a pointer: the return address in the function that
 *    freed the packet, unhashed in the raw record) and, from 5.17 on, `reason` (enum skb_drop_reason, named through
 *    the format's `__print_symbolic` table).
 *  - ftrace:kernel_stack (`events/ftrace/kernel_stack/format`), the records the `stacktrace` trigger writes:
 *    `size` (the number of frames) and `caller` (the return addresses; declared `caller[8]`, the kernel stores `size`
 *    of them and sizes the record to match).
 *
 * Every record starts with `struct trace_entry`, whose first field `common_type` (u16 at offset 0) is the event id
 * (the format's `ID:`). Pure: formats in, layouts out, ParseError for a format this reader cannot use.
 */
import { ParseError } from '../../errors';
import type { EventField, EventFormat } from './format';

/** Offset and size (bytes) of one field in a record's payload. */
export interface FieldSlot {
  readonly offset: number;
  readonly size: number;
}

export interface KfreeSkbRecordLayout {
  /** The event id, common_type of its records. */
  readonly id: number;
  /** 8 bytes on 64-bit kernels, 4 on 32-bit ones. */
  readonly location: FieldSlot;
  /** Absent on kernels without drop reasons (5.15); 4 bytes where present. */
  readonly reason: FieldSlot | undefined;
  /** Bytes a record must have to hold every field read. */
  readonly minLength: number;
}

export interface KernelStackRecordLayout {
  readonly id: number;
  /** The number of frames stored (a signed int). */
  readonly size: FieldSlot;
  /** Offset of the first return address. */
  readonly callerOffset: number;
  /** Bytes per return address (unsigned long). */
  readonly callerSize: number;
}

function field(format: EventFormat, name: string, file: string): EventField {
  const found = format.fields.find((candidate) => candidate.name === name);
  if (!found) throw new ParseError(file, `event ${format.name} has no "${name}" field`);
  return found;
}

function pointerSized(slot: EventField, file: string): FieldSlot {
  if (slot.size !== 8 && slot.size !== 4) {
    throw new ParseError(file, `${slot.name} is ${slot.size} bytes, expected a pointer (4 or 8)`);
  }
  return { offset: slot.offset, size: slot.size };
}

/** The kfree_skb record layout; ParseError when `location` is missing or not pointer-sized, or `reason` not 4 bytes. */
export function kfreeSkbRecordLayout(format: EventFormat, file = 'kfree_skb/format'): KfreeSkbRecordLayout {
  const location = pointerSized(field(format, 'location', file), file);
  const reasonField = format.fields.find((candidate) => candidate.name === 'reason');
  if (reasonField && reasonField.size !== 4) {
    throw new ParseError(file, `reason is ${reasonField.size} bytes, expected 4 (an enum)`);
  }
  const reason = reasonField ? { offset: reasonField.offset, size: 4 } : undefined;
  return {
    id: format.id,
    location,
    reason,
    minLength: Math.max(location.offset + location.size, reason ? reason.offset + reason.size : 0),
  };
}

/** The kernel_stack record layout; ParseError when `size` or `caller[N]` is missing or shaped otherwise. */
export function kernelStackRecordLayout(format: EventFormat, file = 'kernel_stack/format'): KernelStackRecordLayout {
  const size = field(format, 'size', file);
  if (size.size !== 4) throw new ParseError(file, `size is ${size.size} bytes, expected 4 (an int)`);
  const caller = field(format, 'caller', file);
  const count = /\[(\d+)\]$/.exec(caller.type)?.[1];
  if (count === undefined || Number(count) === 0) throw new ParseError(file, `caller is not an array: ${caller.type}`);
  const callerSize = caller.size / Number(count);
  if (callerSize !== 8 && callerSize !== 4) {
    throw new ParseError(file, `caller elements are ${callerSize} bytes, expected a pointer (4 or 8)`);
  }
  return { id: format.id, size: { offset: size.offset, size: 4 }, callerOffset: caller.offset, callerSize };
}
