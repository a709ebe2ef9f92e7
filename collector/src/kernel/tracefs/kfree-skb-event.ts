/**
 * Pure parser of the lines a tracefs instance's `trace_pipe` prints for skb:kfree_skb, and of the kernel stacks the
 * `stacktrace` trigger adds after netfilter drops. Two event layouts exist:
 *
 *   5.17+: `<comm>-<pid> [003] ..s1. 12.34: kfree_skb: skbaddr=... [rx_sk=... ]protocol=2048 location=tcp_v4_rcv+0x99/0x1400 reason: NO_SOCKET`
 *   5.15:  `<comm>-<pid> [003] ..s1. 12.34: kfree_skb: skbaddr=... protocol=2048 location=ffffffff81a0c3d4`
 *
 * The location is a symbol (`%pS`, newer kernels) or an address (`%p` with the instance's hash-ptr option off);
 * addresses are resolved through /proc/kallsyms by the caller. Stack lines:
 *
 *   `<comm>-<pid> [003] ..s1. 12.34: <stack trace>` followed by ` => function` lines.
 */
import { ParseError } from '../../errors';

export type DropLocation =
  { readonly kind: 'symbol'; readonly fn: string } | { readonly kind: 'address'; readonly address: bigint };

export type TraceLine =
  | {
      readonly kind: 'drop';
      readonly cpu: number;
      readonly protocol: number;
      readonly location: DropLocation;
      /** As printed (`NO_SOCKET`), or undefined on kernels without the field. */
      readonly reason: string | undefined;
    }
  | { readonly kind: 'stack'; readonly cpu: number }
  | { readonly kind: 'frame'; readonly fn: string }
  /** `CPU:3 [LOST 120 EVENTS]`: informational, the per-CPU stats count the same losses. */
  | { readonly kind: 'lost'; readonly cpu: number; readonly count: number }
  | { readonly kind: 'empty' };

const MARK = ': kfree_skb: ';
const STACK_MARK = ': <stack trace>';

function cpuOf(prefix: string, file: string): number {
  const match = /\[(\d+)\][^[]*$/.exec(prefix);
  if (!match) throw new ParseError(file, `no [CPU] column before the event in ${JSON.stringify(prefix.slice(0, 80))}`);
  return Number(match[1]);
}

/** `tcp_v4_rcv+0x99/0x1400`, `nft_do_chain+0x1/0x2 [nf_tables]`, `0xffffffffc0a01234`, `ffffffff81a0c3d4`. */
export function parseLocation(text: string, file = 'trace_pipe'): DropLocation {
  const address = /^(?:0x)?([0-9a-f]{1,16})$/.exec(text);
  if (address && (text.startsWith('0x') || text.length === 16 || text.length === 8)) {
    return { kind: 'address', address: BigInt(`0x${address[1]!}`) };
  }
  const symbol = /^([A-Za-z_.$][A-Za-z0-9_.$]*)(?:\+0x[0-9a-f]+\/0x[0-9a-f]+)?(?: \[[A-Za-z0-9_-]+\])?$/.exec(text);
  if (symbol) return { kind: 'symbol', fn: symbol[1]! };
  throw new ParseError(file, `location ${JSON.stringify(text.slice(0, 80))} is neither a symbol nor an address`);
}

/** Parses one line (without its newline). */
export function parseTraceLine(line: string, file = 'trace_pipe'): TraceLine {
  const mark = line.indexOf(MARK);
  if (mark >= 0) {
    const body = line.slice(mark + MARK.length);
    const protocol = /(?:^| )protocol=(\d+)(?: |$)/.exec(body);
    if (!protocol)
      throw new ParseError(file, `kfree_skb event without protocol=: ${JSON.stringify(body.slice(0, 80))}`);
    const at = body.indexOf(' location=');
    if (at < 0) throw new ParseError(file, `kfree_skb event without location=: ${JSON.stringify(body.slice(0, 80))}`);
    const rest = body.slice(at + ' location='.length);
    const reasonAt = rest.indexOf(' reason: ');
    const locationText = reasonAt >= 0 ? rest.slice(0, reasonAt) : rest;
    let reason: string | undefined;
    if (reasonAt >= 0) {
      reason = rest.slice(reasonAt + ' reason: '.length);
      // Unnamed values (a number the kernel's table lacks) print as hex: keep them distinguishable but bounded.
      if (!/^(?:[A-Z0-9_]+|0x[0-9a-f]+)$/.test(reason)) {
        throw new ParseError(file, `reason ${JSON.stringify(reason.slice(0, 60))} is not a kernel reason name`);
      }
    }
    const value = Number(protocol[1]);
    if (value > 0xffff) throw new ParseError(file, `protocol ${value} is beyond 16 bits`);
    return {
      kind: 'drop',
      cpu: cpuOf(line.slice(0, mark), file),
      protocol: value,
      location: parseLocation(locationText, file),
      reason,
    };
  }
  if (line.startsWith(' => ')) {
    const frame = line.slice(4).trim();
    const name = /^([A-Za-z_.$][A-Za-z0-9_.$]*)/.exec(frame);
    // Frames the kernel could not name print as addresses: they name no path.
    return { kind: 'frame', fn: name ? name[1]! : '' };
  }
  if (line.endsWith(STACK_MARK)) return { kind: 'stack', cpu: cpuOf(line.slice(0, -STACK_MARK.length), file) };
  const lost = /^CPU:(\d+) \[LOST (\d+) EVENTS\]$/.exec(line);
  if (lost) return { kind: 'lost', cpu: Number(lost[1]), count: Number(lost[2]) };
  if (line.trim() === '') return { kind: 'empty' };
  throw new ParseError(file, `not a kfree_skb event or stack line: ${JSON.stringify(line.slice(0, 80))}`);
}
