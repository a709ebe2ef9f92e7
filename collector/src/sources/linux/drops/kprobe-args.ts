/**
 * How the dropped-bytes kprobe reaches `skb->len`, `skb->protocol` and the drop reason in the probed function's
 * arguments, chosen from what the running kernel's kprobe_events accepts (its tracefs README), never its version:
 *
 *  - `btf-names` (CONFIG_PROBE_EVENTS_BTF_ARGS, 6.6+ e.g. Azure Linux 3.0, Debian's 6.12): the kernel resolves
 *    argument names and struct fields itself: `len=skb->len:u32 reason=reason:u32 proto=skb->protocol:u16`.
 *  - `offsets` (kprobe events without BTF arguments, e.g. Debian's 6.1, Ubuntu 22.04's 5.15): raw fetch arguments,
 *    `len=+112($arg1):u32 reason=$arg2:u32 proto=+180($arg1):u16`, with the argument positions from the function's
 *    BTF prototype and the byte offsets from `struct sk_buff` in the kernel's BTF (/sys/kernel/btf/vmlinux), parsed
 *    by kernel/btf.ts. The offsets differ between kernels (protocol is at 180 on 6.1 and 176 on 6.18).
 *
 * Pure apart from the BTF loader it is given.
 */
import { describeError, ParseError } from '../../../errors';
import { functionParameters, memberLocation, type Btf } from '../../../kernel/btf';

/** The fetch arguments of the drop kprobe, each `FETCHARG:TYPE`; no reason on kernels without drop reasons. */
export interface KprobeFetch {
  /**
   * The skb pointer itself. kfree_skb(NULL) is legal and frequent (measured on 6.1: unix stream reads), and a field
   * fetched through a NULL pointer is not zeroed: under a hist trigger it keeps the previous event's value. So the
   * trigger keeps only events with a real skb.
   */
  readonly skb: string;
  readonly len: string;
  readonly reason?: string;
  readonly protocol: string;
  /**
   * `skb->users`, the reference count: the drop function only frees (and only fires the tracepoint) when it is 1;
   * a call that merely drops a reference is not a drop.
   */
  readonly users: string;
}

export type KprobeArgAccess = 'btf-names' | 'offsets';

/** Fetch arguments by name, for kernels that resolve them through BTF themselves. */
export const BTF_NAME_FETCH: KprobeFetch = {
  skb: 'skb:x64',
  len: 'skb->len:u32',
  reason: 'reason:u32',
  protocol: 'skb->protocol:u16',
  users: 'skb->users.refs.counter:u32',
};

/**
 * Which way of naming arguments the kernel's tracefs README documents for kprobe events: `<argname>[->field...]`
 * (BTF names), else `$arg<N>` with `+|-[u]<offset>(<fetcharg>)` dereferences (offsets); undefined when neither.
 */
export function kprobeArgAccess(readme: string): KprobeArgAccess | undefined {
  if (/<argname>\[->field/.test(readme)) return 'btf-names';
  if (readme.includes('$arg<N>') && readme.includes('+|-[u]<offset>(<fetcharg>)')) return 'offsets';
  return undefined;
}

const UNSIGNED_TYPE: Readonly<Record<number, string>> = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' };

function unsignedType(size: number, what: string, file: string): string {
  const type = UNSIGNED_TYPE[size];
  if (!type) throw new ParseError(file, `${what} is ${size} bytes: not a fetchable integer`);
  return type;
}

/** BTF_NAME_FETCH without the reason, for kernels whose drop function takes none. */
const BTF_NAME_FETCH_WITHOUT_REASON: KprobeFetch = {
  skb: BTF_NAME_FETCH.skb,
  len: BTF_NAME_FETCH.len,
  protocol: BTF_NAME_FETCH.protocol,
  users: BTF_NAME_FETCH.users,
};

/**
 * Fetch arguments by position and offset for `target`, from the kernel's BTF: the parameter of type
 * `struct sk_buff *` and, `withReason`, the one of type `enum skb_drop_reason` (positions counted from 1, as `$argN`
 * is), and the byte offsets and sizes of `len`, `protocol` and `users` (a refcount_t: one 32-bit counter) in
 * `struct sk_buff`. Throws ParseError when BTF lacks any of them.
 */
export function offsetFetch(btf: Btf, target: string, withReason = true): KprobeFetch {
  const parameters = functionParameters(btf, target);
  const skb = parameters.findIndex((p) => p.type === 'struct sk_buff *');
  const reason = parameters.findIndex((p) => p.type === 'enum skb_drop_reason');
  if (skb < 0 || (withReason && reason < 0)) {
    const signature = parameters.map((p) => `${p.type} ${p.name}`).join(', ');
    const wanted = withReason ? 'struct sk_buff * and enum skb_drop_reason' : 'struct sk_buff *';
    throw new ParseError(btf.file, `${target}(${signature}) has no ${wanted}`);
  }
  const at = (member: string) => {
    const location = memberLocation(btf, 'sk_buff', member);
    return `+${location.offset}($arg${skb + 1}):${unsignedType(location.size, `sk_buff.${member}`, btf.file)}`;
  };
  const fetch = { skb: `$arg${skb + 1}:x64`, len: at('len'), protocol: at('protocol'), users: at('users') };
  return withReason ? { ...fetch, reason: `$arg${reason + 1}:u32` } : fetch;
}

export type FetchChoice = { readonly fetch: KprobeFetch } | { readonly problem: string };

/**
 * Chooses the fetch arguments per probed function (`withReason`: the kernel has drop reasons). For `offsets`, the
 * BTF is loaded (and parsed) once, on the first call; a loader or lookup failure becomes a `problem` naming why, so
 * the caller can try the next function and log what kept bytes from being counted.
 */
export function kprobeFetchResolver(
  access: KprobeArgAccess,
  loadBtf: () => Btf,
  withReason = true,
): (target: string) => FetchChoice {
  let loaded: { btf: Btf } | { problem: string } | undefined;
  return (target) => {
    if (access === 'btf-names') return { fetch: withReason ? BTF_NAME_FETCH : BTF_NAME_FETCH_WITHOUT_REASON };
    if (!loaded) {
      try {
        loaded = { btf: loadBtf() };
      } catch (error) {
        loaded = { problem: `kernel BTF unusable: ${describeError(error)}` };
      }
    }
    if ('problem' in loaded) return loaded;
    try {
      return { fetch: offsetFetch(loaded.btf, target, withReason) };
    } catch (error) {
      if (error instanceof ParseError) return { problem: error.message };
      throw error;
    }
  };
}
