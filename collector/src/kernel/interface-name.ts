/**
 * Interface names between the kernel's bytes and Kappie's label strings: the one place where a name is decoded
 * (every reader: /proc/net/dev, /proc/net/route and ipv6_route, the rtnetlink link dump, sysfs listings) and encoded
 * back (every place a name goes into the kernel: ethtool's ifr_name, sysfs paths).
 *
 * Linux takes any bytes for a name but NUL, "/", ":" and whitespace, 1 to 15 of them (dev_valid_name), and stores them
 * as given: a name need not be UTF-8. A Prometheus label value must be UTF-8 (client_golang refuses others with
 * "label value ... is not valid UTF-8", Prometheus fails the append with "invalid UTF-8 label value"), and replacing
 * the invalid bytes with U+FFFD, as a UTF-8 decoder does, makes `t6\xff\xfe` and `t6\xfe\xff` one series (then one
 * reader sees the same name twice). So a name becomes its LABEL:
 *
 * - each well-formed UTF-8 sequence (Unicode Table 3-7: no overlong form, no surrogate, at most U+10FFFF) stays the
 *   character it encodes, so every ordinary name (`eth0`, `nét0`, `💩0`) is its own label, as `ip link` prints it;
 * - a backslash (0x5C) is written `\\`;
 * - every other byte, one not starting a well-formed sequence or a byte of a control character (U+0000-U+001F,
 *   U+007F, U+0080-U+009F: the kernel allows them, a terminal or a log line should not receive them raw), is written
 *   `\xNN`, two lowercase hex digits, one escape per byte.
 *
 * The label determines the bytes (`\\` and `\xNN` are the only escapes, anything else is its UTF-8), so distinct
 * names have distinct labels and `interfaceNameBytes` gives the name back; a string that is not the label of its own
 * bytes (`\x41` rather than `A`, `\q`) is refused there, so a label has one spelling. Because escapes are per byte or
 * per character, the label of `A + B`, cut at an ASCII byte, is label(A) + label(B): a sysfs entry `lower_<name>`
 * decodes to `lower_` + the name's label.
 */
import { ParseError } from '../errors';

const BACKSLASH = 0x5c;
const WHAT = 'interface name';

/** The length of the well-formed UTF-8 sequence at `at` (1 to 4), or 0 when the byte there starts none. */
function sequenceLength(bytes: Uint8Array, at: number): number {
  const lead = bytes[at]!;
  if (lead < 0x80) return 1;
  const continuation = (offset: number, low = 0x80, high = 0xbf) => {
    const byte = bytes[at + offset];
    return byte !== undefined && byte >= low && byte <= high;
  };
  if (lead >= 0xc2 && lead <= 0xdf) return continuation(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const low = lead === 0xe0 ? 0xa0 : 0x80;
    const high = lead === 0xed ? 0x9f : 0xbf;
    return continuation(1, low, high) && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const low = lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xf4 ? 0x8f : 0xbf;
    return continuation(1, low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

/** Whether the sequence of `length` bytes at `at` encodes a control character (C0, DEL or C1). */
function isControl(bytes: Uint8Array, at: number, length: number): boolean {
  const lead = bytes[at]!;
  if (length === 1) return lead < 0x20 || lead === 0x7f;
  return length === 2 && lead === 0xc2 && bytes[at + 1]! <= 0x9f;
}

/** True when every byte is printable ASCII but the backslash: the label is the bytes as they are (every usual name). */
function isPlainAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte < 0x20 || byte > 0x7e || byte === BACKSLASH) return false;
  }
  return true;
}

function hexEscape(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

/**
 * The label of an interface name given as its bytes (without a NUL): see the top of this file. Total: every byte
 * string has a label, and `interfaceNameBytes(interfaceLabel(b))` equals `b`.
 */
export function interfaceLabel(bytes: Uint8Array): string {
  if (isPlainAscii(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  let label = '';
  let at = 0;
  while (at < bytes.length) {
    const length = sequenceLength(bytes, at);
    if (length === 0 || isControl(bytes, at, length)) {
      const end = length === 0 ? at + 1 : at + length;
      for (; at < end; at++) label += hexEscape(bytes[at]!);
      continue;
    }
    if (bytes[at] === BACKSLASH) label += '\\\\';
    else label += Buffer.from(bytes.buffer, bytes.byteOffset + at, length).toString('utf8');
    at += length;
  }
  return label;
}

/**
 * The label of a name held as Latin-1 text (one character per byte, as a procfs file decoded with 'latin1' holds it):
 * the same as `interfaceLabel` of those bytes, without a copy for the usual printable ASCII name.
 */
export function interfaceLabelOfLatin1(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === BACKSLASH) return interfaceLabel(Buffer.from(text, 'latin1'));
  }
  return text;
}

const HEX_DIGITS = /^[0-9a-f]{2}$/;

/**
 * The bytes of the interface name whose label is `label` (the reverse of `interfaceLabel`). Throws a ParseError for a
 * string that is no name's label: a `\` not starting `\\` or `\xNN` (lowercase hex), or an escape or character
 * written otherwise than `interfaceLabel` writes it (`\x41` for `A`, a raw control character, a lone surrogate).
 */
export function interfaceNameBytes(label: string): Buffer {
  if (!label.includes('\\')) {
    const plain = Buffer.from(label, 'utf8');
    if (interfaceLabel(plain) !== label) throw notALabel(label);
    return plain;
  }
  const parts: Buffer[] = [];
  let literalStart = 0;
  for (let at = label.indexOf('\\'); at >= 0; at = label.indexOf('\\', literalStart)) {
    parts.push(Buffer.from(label.slice(literalStart, at), 'utf8'));
    const next = label[at + 1];
    if (next === '\\') {
      parts.push(Buffer.of(BACKSLASH));
      literalStart = at + 2;
    } else if (next === 'x' && HEX_DIGITS.test(label.slice(at + 2, at + 4))) {
      parts.push(Buffer.of(Number.parseInt(label.slice(at + 2, at + 4), 16)));
      literalStart = at + 4;
    } else {
      throw notALabel(label);
    }
  }
  parts.push(Buffer.from(label.slice(literalStart), 'utf8'));
  const bytes = Buffer.concat(parts);
  if (interfaceLabel(bytes) !== label) throw notALabel(label);
  return bytes;
}

function notALabel(label: string): ParseError {
  return new ParseError(
    WHAT,
    `${JSON.stringify(label)} is not an interface name as Kappie writes it (UTF-8, with \\\\ for a backslash and ` +
      '\\xNN for each byte that is not UTF-8 or is a control character)',
  );
}

/** True when the label is written with an escape, i.e. the name holds a backslash, a control or a non-UTF-8 byte. */
export function hasEscapes(label: string): boolean {
  return label.includes('\\');
}

/**
 * A path of an interface's directory or file under a root: `prefix` + the name's bytes + `suffix` (e.g.
 * `class/net/`, `/statistics/rx_bytes`). A string for a name without escapes (its UTF-8 is its bytes: every usual
 * name), else a Buffer holding the bytes, which node:fs takes as a path as it is.
 */
export function interfacePath(prefix: string, label: string, suffix: string): string | Buffer {
  if (!hasEscapes(label)) return `${prefix}${label}${suffix}`;
  return Buffer.concat([Buffer.from(prefix, 'utf8'), interfaceNameBytes(label), Buffer.from(suffix, 'utf8')]);
}
