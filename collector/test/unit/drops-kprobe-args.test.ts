/**
 * How the dropped-bytes kprobe reaches skb->len: chosen from the kernel's own tracefs README (recorded from Debian's
 * 6.1 and 6.12 cloud kernels under qemu), with offsets from BTF where names are not accepted. The definitions are
 * run on those kernels by the VM suite (kernels/).
 */
import { ParseError } from '../../src/errors';
import { parseBtf } from '../../src/kernel/btf';
import {
  BTF_NAME_FETCH,
  kprobeArgAccess,
  kprobeFetchResolver,
  offsetFetch,
} from '../../src/sources/linux/drops/kprobe-args';
import { addKprobeBytes, kprobeDefinition, kprobeHistTrigger } from '../../src/sources/linux/drops/kprobe-bytes';
import { parseHist } from '../../src/kernel/tracefs/hist';
import { DropTally } from '../../src/sources/linux/drops/tally';
import { BtfBuilder, kernelLikeBtf } from '../helpers/btf-builder';
import { fixture } from '../helpers/fixtures';

describe('kprobe argument access, from the kernel README', () => {
  it('Debian 6.1 (no CONFIG_PROBE_EVENTS_BTF_ARGS): $arg<N> and +offset(fetcharg) only', () => {
    expect(kprobeArgAccess(fixture('linux/tracefs/README.6.1'))).toBe('offsets');
  });

  it('Debian 6.12 (CONFIG_PROBE_EVENTS_BTF_ARGS): argument names and struct fields', () => {
    expect(kprobeArgAccess(fixture('linux/tracefs/README.6.12'))).toBe('btf-names');
  });

  it('a README without kprobe fetch arguments: nothing', () => {
    const withoutKprobes = fixture('linux/tracefs/README.6.1')
      .split('\n')
      .filter((line) => !line.includes('$arg<N>'))
      .join('\n');
    expect(kprobeArgAccess(withoutKprobes)).toBeUndefined();
    expect(kprobeArgAccess('')).toBeUndefined();
  });
});

describe('kprobe fetch arguments from BTF', () => {
  const btf = parseBtf(kernelLikeBtf().build(), 'vmlinux');

  it('kfree_skb_reason(skb, reason): skb is $arg1, reason $arg2', () => {
    expect(offsetFetch(btf, 'kfree_skb_reason')).toEqual({
      skb: '$arg1:x64',
      len: '+112($arg1):u32',
      reason: '$arg2:u32',
      protocol: '+180($arg1):u16',
      users: '+220($arg1):u32',
    });
    expect(kprobeDefinition('kfree_skb_reason', offsetFetch(btf, 'kfree_skb_reason'))).toBe(
      'p:kappie/kfree_skb_bytes kfree_skb_reason caller=$stack0:x64 skb=$arg1:x64 len=+112($arg1):u32 reason=$arg2:u32 proto=+180($arg1):u16 users=+220($arg1):u32',
    );
  });

  it('sk_skb_reason_drop(sk, skb, reason): positions follow the prototype', () => {
    expect(offsetFetch(btf, 'sk_skb_reason_drop')).toEqual({
      skb: '$arg2:x64',
      len: '+112($arg2):u32',
      reason: '$arg3:u32',
      protocol: '+180($arg2):u16',
      users: '+220($arg2):u32',
    });
  });

  it('refuses a function without an skb and a reason, and a struct without len', () => {
    const b = kernelLikeBtf();
    b.func('consume_skb', b.prototype(0, [['skb', b.ptr(b.forward('sk_buff'))]]));
    expect(() => offsetFetch(parseBtf(b.build()), 'consume_skb')).toThrow(
      /consume_skb\(struct sk_buff \* skb\) has no struct sk_buff \* and enum skb_drop_reason/,
    );
    const noLen = new BtfBuilder();
    const skb = noLen.struct('sk_buff', 8, [{ name: 'users', type: noLen.int('int', 4), bitOffset: 0 }]);
    noLen.func(
      'kfree_skb_reason',
      noLen.prototype(0, [
        ['skb', noLen.ptr(skb)],
        ['reason', noLen.enumeration('skb_drop_reason', 4, [])],
      ]),
    );
    expect(() => offsetFetch(parseBtf(noLen.build()), 'kfree_skb_reason')).toThrow(ParseError);
  });
});

describe('kprobe fetch resolver', () => {
  it('by BTF names: never reads BTF', () => {
    const resolve = kprobeFetchResolver('btf-names', () => {
      throw new Error('must not be called');
    });
    expect(resolve('sk_skb_reason_drop')).toEqual({ fetch: BTF_NAME_FETCH });
  });

  it('by offsets: loads BTF once, says why a function cannot be probed, and serves the next', () => {
    let loads = 0;
    const resolve = kprobeFetchResolver('offsets', () => {
      loads += 1;
      return parseBtf(kernelLikeBtf().build(), '/sys/kernel/btf/vmlinux');
    });
    expect(resolve('no_such_function')).toEqual({ problem: '/sys/kernel/btf/vmlinux: no function no_such_function' });
    expect(resolve('kfree_skb_reason')).toEqual({ fetch: expect.objectContaining({ len: '+112($arg1):u32' }) });
    expect(loads).toBe(1);
  });

  it('by offsets without BTF: every target gets the reason', () => {
    const resolve = kprobeFetchResolver('offsets', () => {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT', path: '/sys/kernel/btf/vmlinux' });
    });
    const expected = { problem: 'kernel BTF unusable: missing: /sys/kernel/btf/vmlinux' };
    expect(resolve('sk_skb_reason_drop')).toEqual(expected);
    expect(resolve('kfree_skb_reason')).toEqual(expected);
  });
});

describe('kernels without drop reasons (5.15: not run here, no such kernel in Debian; tested on documented formats)', () => {
  const b = kernelLikeBtf();
  b.func('kfree_skb', b.prototype(0, [['skb', b.ptr(b.idOf('sk_buff'))]]));
  const btf = parseBtf(b.build(), 'vmlinux');

  it('probes kfree_skb(skb) for len and protocol, without a reason', () => {
    const fetch = offsetFetch(btf, 'kfree_skb', false);
    expect(fetch).toEqual({
      skb: '$arg1:x64',
      len: '+112($arg1):u32',
      protocol: '+180($arg1):u16',
      users: '+220($arg1):u32',
    });
    expect(kprobeDefinition('kfree_skb', fetch)).toBe(
      'p:kappie/kfree_skb_bytes kfree_skb caller=$stack0:x64 skb=$arg1:x64 len=+112($arg1):u32 proto=+180($arg1):u16 users=+220($arg1):u32',
    );
    expect(kprobeFetchResolver('btf-names', () => btf, false)('kfree_skb')).toEqual({
      fetch: {
        skb: 'skb:x64',
        len: 'skb->len:u32',
        protocol: 'skb->protocol:u16',
        users: 'skb->users.refs.counter:u32',
      },
    });
  });

  it('keys the bytes by caller, and derives the reason from it as the counts do', () => {
    expect(kprobeHistTrigger(undefined)).toBe(
      'hist:keys=caller.sym:vals=hitcount,len:size=4096 if skb != 0 && users == 1 && proto != 0',
    );
    const text = [
      '# event histogram',
      '#',
      '# trigger info: hist:keys=caller.sym:vals=hitcount,len:sort=hitcount:size=4096 if proto != 0 [active]',
      '#',
      '',
      '{ caller: [ffffffff81a0c3d1] __udp4_lib_rcv                                } hitcount:         25  len:       2700',
      '{ caller: [ffffffff81a9e2b0] nf_hook_slow                                  } hitcount:          2  len:        256',
      '',
      'Totals:',
      '    Hits: 27',
      '    Entries: 2',
      '    Dropped: 0',
      '',
    ].join('\n');
    const tally = new DropTally();
    addKprobeBytes(parseHist(text)[0]!, undefined, tally);
    const bytes = Object.fromEntries(
      tally.byteSamples().map((s) => [`${s.labels.reason}/${s.labels.direction}`, s.value]),
    );
    expect(bytes).toEqual({ 'NO_SOCKET/ingress': 2700, 'NETFILTER_DROP/unknown': 256 });
  });
});
