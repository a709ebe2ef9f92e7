/**
 * What each kappie_tcp_flag_counters flag counts, as a pure function of the TCP flag byte (header byte 13:
 * CWR ECE URG ACK PSH RST SYN FIN). The kernel counts segments per flag byte value; user space sums them per flag.
 *
 * - SYN: SYN set, ACK clear (a connection attempt). SYNACK: SYN and ACK set (an accepted attempt).
 *   A SYN+ACK segment counts as SYNACK only, never also as SYN or ACK.
 * - ACK: ACK set, SYN clear (every segment of an established connection, including FIN+ACK and RST+ACK).
 * - FIN, RST, PSH, URG, ECE, CWR: that bit set, whatever the others (FIN+ACK counts as FIN and as ACK).
 */
import { TCP_FLAGS, type TcpFlag } from '../../catalog';

/** Bits of the TCP flag byte (RFC 9293 section 3.1, RFC 3168 for ECE/CWR). */
export const TCP_FLAG_BIT = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** Flags that count a segment when their bit alone is set (SYN, SYNACK and ACK depend on two bits). */
const SINGLE_BIT_FLAGS = ['FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR'] as const satisfies readonly TcpFlag[];

/** Every value of the flag byte, 0x00..0xff: the keys of the kernel map. */
export const FLAG_BYTE_VALUES: readonly number[] = Array.from({ length: 256 }, (_, value) => value);

/** The catalog flags a segment with this flag byte counts under, in catalog order. */
export function flagsOfByte(flagByte: number): TcpFlag[] {
  if (!Number.isInteger(flagByte) || flagByte < 0 || flagByte > 0xff) {
    throw new RangeError(`a TCP flag byte is 0..255, got ${flagByte}`);
  }
  const has = (bit: number) => (flagByte & bit) !== 0;
  const counted = new Set<TcpFlag>();
  if (has(TCP_FLAG_BIT.SYN)) counted.add(has(TCP_FLAG_BIT.ACK) ? 'SYNACK' : 'SYN');
  else if (has(TCP_FLAG_BIT.ACK)) counted.add('ACK');
  for (const flag of SINGLE_BIT_FLAGS) if (has(TCP_FLAG_BIT[flag])) counted.add(flag);
  return TCP_FLAGS.filter((flag) => counted.has(flag));
}

/** `flagsOfByte` of every flag byte, indexed by the byte: computed once, read at every gathering (512 lookups). */
export const FLAGS_BY_BYTE: readonly (readonly TcpFlag[])[] = Object.freeze(
  FLAG_BYTE_VALUES.map((value) => Object.freeze(flagsOfByte(value))),
);
