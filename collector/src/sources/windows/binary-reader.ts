/**
 * Bounds-checked reads of the little-endian structs the IP Helper API fills (x64 layout, natural alignment). Every
 * read names the struct field it is for, so a buffer shorter than the documented layout is a ParseError saying which
 * field was cut off, never a number read from past the end.
 */
import { ParseError } from '../../errors';

export class BinaryReader {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    /** What the buffer is (e.g. `MIB_TCPTABLE_OWNER_PID`), for error messages. */
    readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws unless `length` bytes from `offset` are inside the buffer. */
  require(offset: number, length: number, field: string): void {
    if (offset < 0 || offset + length > this.bytes.byteLength) {
      throw new ParseError(
        this.what,
        `truncated: ${field} needs bytes ${offset}..${offset + length} but the buffer has ${this.bytes.byteLength}`,
      );
    }
  }

  /**
   * Reads without a bounds check, for loops over rows after `require` checked the whole table: building a field name
   * per row costs more than the read itself at 100k rows.
   */
  u32InRange(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  u64InRange(offset: number): number {
    return Number(this.view.getBigUint64(offset, true));
  }

  /** A 64-bit identifier (not a count, so never rounded) as 16 lowercase hex digits, without a bounds check. */
  u64HexInRange(offset: number): string {
    return this.view.getBigUint64(offset, true).toString(16).padStart(16, '0');
  }

  u8(offset: number, field: string): number {
    this.require(offset, 1, field);
    return this.bytes[offset]!;
  }

  u32(offset: number, field: string): number {
    this.require(offset, 4, field);
    return this.view.getUint32(offset, true);
  }

  /**
   * An unsigned 64-bit counter as a number. Above 2^53 the value is rounded to the nearest double, which is what
   * Prometheus stores anyway (its samples are float64).
   */
  u64(offset: number, field: string): number {
    this.require(offset, 8, field);
    return Number(this.view.getBigUint64(offset, true));
  }

  /** A NUL-terminated UTF-16LE string in a fixed WCHAR[maxChars] field. */
  utf16z(offset: number, maxChars: number, field: string): string {
    this.require(offset, maxChars * 2, field);
    let end = offset;
    const limit = offset + maxChars * 2;
    while (end < limit && (this.bytes[end] !== 0 || this.bytes[end + 1] !== 0)) end += 2;
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + offset, end - offset).toString('utf16le');
  }
}
