import fc from 'fast-check';
import { ParseError } from '../../src/errors';
import { parseKallsyms } from '../../src/kernel/kallsyms';
import { parseEventFormat, parsePrintSymbolic, readEventFormat } from '../../src/kernel/tracefs/format';
import type { Tracefs } from '../../src/kernel/tracefs/tracefs';
import { parseHist } from '../../src/kernel/tracefs/hist';
import { triggerRemoval } from '../../src/kernel/tracefs/instance';
import { parseLocation, parseTraceLine } from '../../src/kernel/tracefs/kfree-skb-event';
import { mountTypeAt } from '../../src/kernel/tracefs/mount';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInstanceLostEvents, lostEvents, parseRingBufferStats } from '../../src/kernel/tracefs/ring-buffer-stats';
import { createTracefs } from '../../src/kernel/tracefs/tracefs';
import { kfreeSkbHistTrigger } from '../../src/sources/linux/drops/hist-mode';
import { kfreeSkbFilter } from '../../src/sources/linux/drops/kfree-skb';
import { addKprobeBytes, kprobeDefinition, kprobeHistTrigger } from '../../src/sources/linux/drops/kprobe-bytes';
import { derivedReason, dropDirection, stackDirection } from '../../src/sources/linux/drops/locations';
import {
  createStackGovernor,
  STACK_BUDGET_PER_SECOND,
  STACK_CALM_MS,
} from '../../src/sources/linux/drops/netfilter-stacks';
import { DropStream } from '../../src/sources/linux/drops/stream-decoder';
import { silentLogger } from '../../src/log';
import { DropTally, OVERFLOW_REASON } from '../../src/sources/linux/drops/tally';
import { fixture } from '../helpers/fixtures';

const lines = (name: string) => fixture(`linux/tracefs/${name}`).split('\n').slice(0, -1);

/** Every parser either returns or throws ParseError: never another error, never a crash. */
function onlyParseErrors(parse: (text: string) => unknown) {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
      try {
        parse(text);
      } catch (error) {
        expect(error).toBeInstanceOf(ParseError);
      }
    }),
  );
}

describe('kfree_skb format files', () => {
  it('reads the recorded 6.18 format: fields, offsets and the reason table from the kernel', () => {
    const format = parseEventFormat(fixture('linux/tracefs/kfree_skb.format.6.18'));
    expect(format.name).toBe('kfree_skb');
    expect(format.fields.map((f) => f.name)).toEqual(['skbaddr', 'location', 'rx_sk', 'protocol', 'reason']);
    expect(format.fields.find((f) => f.name === 'reason')).toEqual({
      type: 'enum skb_drop_reason',
      name: 'reason',
      offset: 36,
      size: 4,
      signed: false,
    });
    const reasons = format.symbols.get('reason')!;
    expect(reasons.get(2)).toBe('NOT_SPECIFIED');
    expect(reasons.get(3)).toBe('NO_SOCKET');
    expect(reasons.get(12)).toBe('NETFILTER_DROP');
    expect(reasons.size).toBe(127);
    expect(kfreeSkbFilter(format)).toBe('protocol != 0');
  });

  it('reads the 5.15 format (no reason field, location printed with %p)', () => {
    const format = parseEventFormat(fixture('linux/tracefs/kfree_skb.format.5.15'));
    expect(format.fields.map((f) => [f.name, f.offset, f.size])).toEqual([
      ['skbaddr', 8, 8],
      ['location', 16, 8],
      ['protocol', 24, 2],
    ]);
    expect(format.symbols.size).toBe(0);
    expect(kfreeSkbFilter(format)).toBe('protocol != 0');
  });

  it('filters out reasons that are not drops when the kernel names them', () => {
    const format = parseEventFormat(
      fixture('linux/tracefs/kfree_skb.format.6.18').replace(
        '{ 2, "NOT_SPECIFIED" }',
        '{ 1, "CONSUMED" }, { 2, "NOT_SPECIFIED" }',
      ),
    );
    expect(kfreeSkbFilter(format)).toBe('protocol != 0 && reason != 1');
  });

  it('reads hex and negative symbol values and rejects a cut table', () => {
    expect(parsePrintSymbolic('__print_symbolic(REC->x, { 0x1f, "A" }, { -2, "B" })').get('x')).toEqual(
      new Map([
        [31, 'A'],
        [-2, 'B'],
      ]),
    );
    expect(() => parsePrintSymbolic('__print_symbolic(REC->x, { 1, "A" }, { 2, "B"')).toThrow(ParseError);
  });

  it('fuzz: arbitrary text and truncated recordings give ParseError, never a crash', () => {
    onlyParseErrors((text) => parseEventFormat(text));
    const text = fixture('linux/tracefs/kfree_skb.format.6.18');
    const fullTable = parseEventFormat(text).symbols.get('reason')!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 2 }), (cut) => {
        const truncated = text.slice(0, cut);
        try {
          const format = parseEventFormat(truncated);
          // A cut that still parses can only have lost whole trailing lines: never a wrong reason number.
          for (const [value, name] of format.symbols.get('reason') ?? []) {
            expect(fullTable.get(value)).toBe(name);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
  });
});

describe('readEventFormat', () => {
  /** A tracefs whose every read fails with `code`, as node:fs reports it. */
  const failingTracefs = (code: string): Tracefs =>
    ({
      pathOf: (relativePath: string) => `/sys/kernel/tracing/${relativePath}`,
      read(relativePath: string): string {
        throw Object.assign(new Error(`${code}: open '/sys/kernel/tracing/${relativePath}'`), { code });
      },
    }) as unknown as Tracefs;

  it('says "no such event" only for ENOENT, and a permission problem as what it is', () => {
    expect(readEventFormat(failingTracefs('ENOENT'), 'skb/kfree_skb')).toBeUndefined();
    expect(() => readEventFormat(failingTracefs('EACCES'), 'skb/kfree_skb')).toThrow(/EACCES/);
  });
});

describe('trace_pipe lines', () => {
  it('parses the recorded 6.18 lines, including a netfilter drop with its stack', () => {
    const parsed = lines('trace_pipe.6.18').map((line) => parseTraceLine(line));
    const drops = parsed.filter((p) => p.kind === 'drop');
    expect(drops.map((d) => d.reason)).toEqual([
      'TCP_OLD_DATA',
      'NETFILTER_DROP',
      'NO_SOCKET',
      'NO_SOCKET',
      'NO_SOCKET',
      'NOT_SPECIFIED',
      'TCP_OLD_DATA',
    ]);
    expect(drops[1]).toEqual({
      kind: 'drop',
      cpu: 1,
      protocol: 2048,
      location: { kind: 'symbol', fn: 'nft_do_chain' },
      reason: 'NETFILTER_DROP',
    });
    expect(parsed.filter((p) => p.kind === 'stack')).toEqual([{ kind: 'stack', cpu: 1 }]);
    expect(parsed.filter((p) => p.kind === 'frame')).toHaveLength(24);
  });

  it('parses 5.15 lines: addresses instead of symbols, no reason', () => {
    const first = parseTraceLine(lines('trace_pipe.5.15')[0]!);
    expect(first).toEqual({
      kind: 'drop',
      cpu: 0,
      protocol: 2048,
      location: { kind: 'address', address: 0xffffffff81f81cean },
      reason: undefined,
    });
  });

  it('reads every location form', () => {
    expect(parseLocation('nft_do_chain+0x1/0x2 [nf_tables]')).toEqual({ kind: 'symbol', fn: 'nft_do_chain' });
    expect(parseLocation('ip_rcv_core.isra.0+0x1c/0x300')).toEqual({ kind: 'symbol', fn: 'ip_rcv_core.isra.0' });
    expect(parseLocation('0xffffffffc0a01234')).toEqual({ kind: 'address', address: 0xffffffffc0a01234n });
    expect(parseLocation('tcp_v4_rcv')).toEqual({ kind: 'symbol', fn: 'tcp_v4_rcv' });
    expect(() => parseLocation('tcp v4')).toThrow(ParseError);
  });

  it('names the line it cannot read', () => {
    expect(() => parseTraceLine('bash-1 [000] 1.0: kfree_skb: skbaddr=0 location=x')).toThrow(/without protocol/);
    expect(() => parseTraceLine('something else')).toThrow(ParseError);
    expect(parseTraceLine('CPU:3 [LOST 120 EVENTS]')).toEqual({ kind: 'lost', cpu: 3, count: 120 });
  });

  it('fuzz: arbitrary lines and mutated recorded lines give ParseError, never a crash', () => {
    onlyParseErrors((text) => parseTraceLine(text));
    const recorded = lines('trace_pipe.6.18').concat(lines('trace_pipe.5.15'));
    fc.assert(
      fc.property(fc.constantFrom(...recorded), fc.nat(), fc.string({ maxLength: 5 }), (line, at, insert) => {
        const position = at % (line.length + 1);
        try {
          const parsed = parseTraceLine(line.slice(0, position) + insert + line.slice(position));
          if (parsed.kind === 'drop') expect(parsed.protocol).toBeLessThanOrEqual(0xffff);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
  });
});

describe('kallsyms', () => {
  const symbols = parseKallsyms(fixture('linux/tracefs/kallsyms'));

  it('names the function an address falls in, from recorded kallsyms', () => {
    expect(symbols.functionAt(0xffffffff81f81c50n)).toBe('nf_hook_slow');
    expect(symbols.functionAt(0xffffffff81f81cean)).toBe('nf_hook_slow');
    expect(symbols.functionAt(0xffffffff820a7f2cn)).toBe('__udp4_lib_rcv');
    expect(symbols.functionAt(0x1000n)).toBeUndefined();
    expect(symbols.rangeOf('nf_hook_slow')).toEqual([0xffffffff81f81c50n, 0xffffffff81f81d60n]);
  });

  it('reads module symbols and skips data symbols and hidden (zero) addresses', () => {
    const table = parseKallsyms(
      'ffffffffc0a01000 t nft_do_chain_x\t[nf_tables]\nffffffff82000000 D some_data\n0000000000000000 T hidden\n',
    );
    expect(table.size).toBe(1);
    expect(table.functionAt(0xffffffffc0a01010n)).toBe('nft_do_chain_x');
  });

  it('fuzz: ParseError or a table, never a crash', () => {
    onlyParseErrors((text) => parseKallsyms(text));
  });
});

describe('direction and derived reasons', () => {
  it('decides by reason where the reason says it, else by function', () => {
    expect(dropDirection('QDISC_DROP', 'tcp_v4_rcv')).toBe('egress');
    expect(dropDirection('TC_INGRESS', undefined)).toBe('ingress');
    expect(dropDirection('TC_EGRESS', undefined)).toBe('egress');
    expect(dropDirection('NOT_SPECIFIED', 'ip_finish_output2')).toBe('egress');
    expect(dropDirection('NOT_SPECIFIED', 'ip_rcv_core.isra.0')).toBe('ingress');
    expect(dropDirection('NOT_SPECIFIED', 'neigh_flush_dev')).toBe('egress');
    expect(dropDirection('NOT_SPECIFIED', 'ip_forward')).toBe('ingress');
    expect(dropDirection('NETFILTER_DROP', 'nft_do_chain')).toBeUndefined();
    expect(dropDirection('NOT_SPECIFIED', 'skb_queue_purge_reason')).toBeUndefined();
  });

  it('reads the direction of a netfilter drop from its stack', () => {
    expect(stackDirection(['sk_skb_reason_drop', 'nft_do_chain', 'nf_hook_slow', 'ip_local_deliver'])).toBe('ingress');
    expect(stackDirection(['kfree_skb', 'nf_hook_slow', '__ip_local_out', 'ip_local_out'])).toBe('egress');
    expect(stackDirection(['nf_hook_slow', 'ip_forward', 'ip_rcv'])).toBe('ingress');
    expect(stackDirection(['nf_hook_slow', 'br_nf_post_routing'])).toBe('egress');
    expect(stackDirection(['nf_hook_slow', 'mystery'])).toBeUndefined();
  });

  it('derives 5.15 reasons from the function, NOT_SPECIFIED when it does not know', () => {
    expect(derivedReason('nf_hook_slow')).toBe('NETFILTER_DROP');
    expect(derivedReason('__udp4_lib_rcv')).toBe('NO_SOCKET');
    expect(derivedReason('enqueue_to_backlog')).toBe('CPU_BACKLOG');
    expect(derivedReason('__dev_queue_xmit')).toBe('QDISC_DROP');
    expect(derivedReason('ip_rcv_core.isra.0')).toBe('IP_INHDR');
    expect(derivedReason('mystery')).toBe('NOT_SPECIFIED');
    expect(derivedReason(undefined)).toBe('NOT_SPECIFIED');
  });
});

describe('DropStream', () => {
  it('counts the recorded 6.18 stream by reason and direction, netfilter direction from the stack', () => {
    const tally = new DropTally();
    const stream = new DropStream(tally, { ignoredReasons: new Set(), netfilterStacks: true, symbols: undefined });
    stream.push(lines('trace_pipe.6.18'));
    expect(tally.packets('NETFILTER_DROP', 'ingress')).toBe(1);
    expect(tally.packets('NO_SOCKET', 'ingress')).toBe(3);
    expect(tally.packets('TCP_OLD_DATA', 'ingress')).toBe(2);
    expect(tally.packets('NOT_SPECIFIED', 'ingress')).toBe(1);
    expect(tally.total()).toBe(7);
    expect(stream.parseErrors).toBe(0);
  });

  it('counts the 5.15 stream with derived reasons, resolving addresses through kallsyms', () => {
    const tally = new DropTally();
    const stream = new DropStream(tally, {
      ignoredReasons: new Set(),
      netfilterStacks: true,
      symbols: parseKallsyms(fixture('linux/tracefs/kallsyms')),
    });
    stream.push(lines('trace_pipe.5.15'));
    expect(tally.packets('NETFILTER_DROP', 'ingress')).toBe(1);
    expect(tally.packets('NETFILTER_DROP', 'egress')).toBe(1);
    expect(tally.packets('NO_SOCKET', 'ingress')).toBe(2);
    expect(tally.packets('QDISC_DROP', 'egress')).toBe(1);
    expect(tally.packets('CPU_BACKLOG', 'ingress')).toBe(1);
    expect(tally.packets('NEIGH_FAILED', 'egress')).toBe(1);
    expect(tally.total()).toBe(7);
  });

  it('keeps a netfilter drop whose stack has not been read yet, and counts it once the stack arrives', () => {
    const all = lines('trace_pipe.6.18');
    const stackAt = all.findIndex((line) => line.endsWith('<stack trace>'));
    const tally = new DropTally();
    const stream = new DropStream(tally, { ignoredReasons: new Set(), netfilterStacks: true, symbols: undefined });
    stream.push(all.slice(0, stackAt));
    expect(tally.packets('NETFILTER_DROP', 'ingress')).toBe(0);
    stream.push(all.slice(stackAt));
    expect(tally.packets('NETFILTER_DROP', 'ingress')).toBe(1);
    expect(tally.packets('NETFILTER_DROP', 'unknown')).toBe(0);
  });

  it('counts a held netfilter drop as unknown once a read passed without its stack, and not before', () => {
    const drop = lines('trace_pipe.6.18').find((line) => line.includes('NETFILTER_DROP'))!;
    const tally = new DropTally();
    const stream = new DropStream(tally, { ignoredReasons: new Set(), netfilterStacks: true, symbols: undefined });
    stream.push([drop]);
    stream.settle();
    expect(tally.total()).toBe(0);
    stream.push([]);
    stream.settle();
    expect(tally.packets('NETFILTER_DROP', 'unknown')).toBe(1);
    stream.setNetfilterStacks(false);
    stream.push([drop]);
    expect(tally.packets('NETFILTER_DROP', 'unknown')).toBe(2);
    expect(stream.netfilterEvents).toBe(2);
  });

  it('counts unreadable lines as parse errors and ignores reasons that are not drops', () => {
    const tally = new DropTally();
    const stream = new DropStream(tally, {
      ignoredReasons: new Set(['NO_SOCKET']),
      netfilterStacks: false,
      symbols: undefined,
    });
    stream.push([...lines('trace_pipe.6.18'), 'garbage']);
    expect(tally.packets('NO_SOCKET', 'ingress')).toBe(0);
    expect(tally.packets('NETFILTER_DROP', 'unknown')).toBe(1);
    expect(stream.parseErrors).toBe(1);
  });

  it('fuzz: any sequence of recorded and random lines counts each drop line exactly once', () => {
    const recorded = lines('trace_pipe.6.18');
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...recorded), fc.string({ maxLength: 40 })), { maxLength: 60 }),
        (input) => {
          const tally = new DropTally();
          const stream = new DropStream(tally, {
            ignoredReasons: new Set(),
            netfilterStacks: true,
            symbols: undefined,
          });
          stream.push(input);
          stream.flushAll();
          expect(tally.total()).toBe(input.filter((line) => line.includes(': kfree_skb: ')).length);
        },
      ),
    );
  });
});

describe('netfilter stack governor', () => {
  it('switches stacks off in a storm and on again only after a calm of STACK_CALM_MS', () => {
    const switched: boolean[] = [];
    const governor = createStackGovernor((on) => (switched.push(on), true), 100, 0, silentLogger());
    let events = 0;
    let now = 0;
    const poll = (perSecond: number) => {
      now += 100;
      events += perSecond / 10;
      return governor.adapt(events, now);
    };
    expect(poll(STACK_BUDGET_PER_SECOND)).toBe(true);
    expect(poll(STACK_BUDGET_PER_SECOND * 3)).toBe(false);
    // A quiet poll in the middle of a storm (a starved event loop) does not bring them back.
    for (let t = 0; t < STACK_CALM_MS - 100; t += 100) poll(t === 1000 ? 0 : STACK_BUDGET_PER_SECOND * 3);
    expect(governor.on).toBe(false);
    for (let t = 0; t < STACK_CALM_MS; t += 100) poll(STACK_BUDGET_PER_SECOND / 4);
    expect(governor.on).toBe(false);
    expect(poll(STACK_BUDGET_PER_SECOND / 4)).toBe(true);
    expect(switched).toEqual([false, true]);
  });

  it('keeps stacks off when the kernel refuses to add the trigger back, and tries again', () => {
    let accept = false;
    const governor = createStackGovernor((on) => !on || accept, 100, 0, silentLogger());
    expect(governor.adapt(1000, 100)).toBe(false);
    expect(governor.adapt(1000, 200)).toBe(false);
    expect(governor.adapt(1000, 200 + STACK_CALM_MS)).toBe(false);
    accept = true;
    expect(governor.adapt(1000, 300 + STACK_CALM_MS)).toBe(true);
  });
});

describe('DropTally', () => {
  it('stays bounded: pairs beyond the cap sum into the overflow series, nothing is lost', () => {
    const tally = new DropTally(10);
    for (let i = 0; i < 100; i += 1) tally.add(`R${i}`, 'ingress', 2, 5);
    expect(tally.size).toBeLessThanOrEqual(10);
    expect(tally.total()).toBe(200);
    expect(tally.packets(OVERFLOW_REASON, 'ingress')).toBe(2 * (100 - 7));
    expect(tally.byteSamples().reduce((sum, s) => sum + s.value, 0)).toBe(500);
  });
});

describe('hist triggers (not on the CI kernel: documented format)', () => {
  it('builds the trigger with and without the reason field', () => {
    expect(kfreeSkbHistTrigger(true, 'protocol != 0')).toBe(
      'hist:keys=reason,location.sym:vals=hitcount:size=4096 if protocol != 0',
    );
    expect(kfreeSkbHistTrigger(false, undefined)).toBe('hist:keys=location.sym:vals=hitcount:size=4096');
  });

  it('parses a kfree_skb hist table', () => {
    const [table, more] = parseHist(fixture('linux/tracefs/hist.kfree_skb'));
    expect(more).toBeUndefined();
    expect(table!.trigger).toBe('hist:keys=reason,location.sym:vals=hitcount:sort=hitcount:size=4096 if protocol != 0');
    expect(table!.hits).toBe(1024);
    expect(table!.dropped).toBe(0);
    expect(table!.entries).toHaveLength(5);
    expect(table!.entries[2]).toEqual({
      keys: { reason: { number: 2 }, location: { address: 0xffffffffc0a01234n, symbol: 'br_nf_dev_queue_xmit' } },
      values: { hitcount: 4 },
    });
    expect(table!.entries.reduce((sum, e) => sum + e.values['hitcount']!, 0)).toBe(1024);
  });

  it('parses the kprobe bytes table and turns it into drop_bytes by reason and direction', () => {
    const [table] = parseHist(fixture('linux/tracefs/hist.kprobe_bytes'));
    expect(table!.dropped).toBe(3);
    const names = parseEventFormat(fixture('linux/tracefs/kfree_skb.format.6.18')).symbols.get('reason')!;
    const tally = new DropTally();
    addKprobeBytes(table!, names, tally);
    const bytes = Object.fromEntries(
      tally.byteSamples().map((s) => [`${s.labels.reason}/${s.labels.direction}`, s.value]),
    );
    expect(bytes).toEqual({ 'NETFILTER_DROP/unknown': 168, 'NO_SOCKET/ingress': 30000 });
  });

  it('reads several tables and rejects a table cut before its totals', () => {
    const text = fixture('linux/tracefs/hist.kfree_skb');
    expect(parseHist(text + text)).toHaveLength(2);
    const cut = text.slice(0, text.indexOf('Totals:'));
    expect(() => parseHist(cut)).toThrow(/no Totals/);
  });

  it('fuzz: ParseError or tables, never a crash or a wrong count', () => {
    onlyParseErrors((text) => parseHist(text));
    const text = fixture('linux/tracefs/hist.kfree_skb');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: text.length - 1 }), (cut) => {
        try {
          const tables = parseHist(text.slice(0, cut));
          expect(tables.every((t) => t.hits === 1024)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
  });
});

describe('kprobe bytes (not on the CI kernel: documented syntax; run under qemu by kernels/)', () => {
  it('defines the probe and its hist trigger', () => {
    expect(kprobeDefinition('sk_skb_reason_drop')).toBe(
      'p:kappie/kfree_skb_bytes sk_skb_reason_drop caller=$stack0:x64 skb=skb:x64 len=skb->len:u32 reason=reason:u32 proto=skb->protocol:u16 users=skb->users.refs.counter:u32',
    );
    expect(kprobeHistTrigger(2)).toBe(
      'hist:keys=reason,caller.sym:vals=hitcount,len:size=4096 if skb != 0 && users == 1 && proto != 0 && reason >= 2',
    );
  });
});

describe('ring buffer stats and mounts', () => {
  it('reads the recorded per-CPU stats', () => {
    const stats = parseRingBufferStats(fixture('linux/tracefs/per_cpu_stats'));
    expect(stats).toEqual({ entries: 0, overrun: 0, commitOverrun: 0, droppedEvents: 0, readEvents: 0 });
    expect(lostEvents({ ...stats, overrun: 5, commitOverrun: 1, droppedEvents: 2 })).toBe(8);
    onlyParseErrors((text) => parseRingBufferStats(text));
  });

  it('keeps per-CPU stats files open and reads what they hold at each read, summed over CPUs', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-tracefs-'));
    try {
      const stats = (overrun: number) =>
        fixture('linux/tracefs/per_cpu_stats').replace('overrun: 0', `overrun: ${overrun}`);
      for (const cpu of ['cpu0', 'cpu1']) {
        fs.mkdirSync(path.join(root, 'instances/k/per_cpu', cpu), { recursive: true });
        fs.writeFileSync(path.join(root, 'instances/k/per_cpu', cpu, 'stats'), stats(0));
      }
      const lost = createInstanceLostEvents(createTracefs(root), 'instances/k');
      expect(lost.read()).toBe(0);
      // Longer than before and than the kept buffer's first 1 KiB: read whole from offset 0 again.
      fs.writeFileSync(
        path.join(root, 'instances/k/per_cpu/cpu1/stats'),
        stats(7) + `now ts: ${' '.repeat(2000)}1.5\n`,
      );
      fs.writeFileSync(path.join(root, 'instances/k/per_cpu/cpu0/stats'), stats(5));
      expect(lost.read()).toBe(12);
      lost.close();
      fs.writeFileSync(path.join(root, 'instances/k/per_cpu/cpu0/stats'), 'entries: x\n');
      expect(() => createInstanceLostEvents(createTracefs(root), 'instances/k').read()).toThrow(ParseError);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('removes each trigger as the kernel shows it: without its count and state, comments skipped', () => {
    expect(triggerRemoval('stacktrace:count=5 if reason == 12')).toBe('!stacktrace if reason == 12');
    expect(triggerRemoval('stacktrace:unlimited if reason == 12')).toBe('!stacktrace if reason == 12');
    expect(triggerRemoval('hist:keys=reason,location.sym:vals=hitcount:size=4096 if protocol != 0 [active]')).toBe(
      '!hist:keys=reason,location.sym:vals=hitcount:size=4096 if protocol != 0',
    );
    expect(triggerRemoval('# Available triggers:')).toBeUndefined();
    expect(triggerRemoval('  ')).toBeUndefined();
  });

  it('finds the tracefs mount in mountinfo', () => {
    const mountinfo =
      '22 28 0:20 / /sys rw,nosuid - sysfs sysfs rw\n' + '40 22 0:12 / /sys/kernel/tracing rw - tracefs nodev rw\n';
    expect(mountTypeAt(mountinfo, '/sys/kernel/tracing')).toBe('tracefs');
    expect(mountTypeAt(mountinfo, '/sys/kernel/debug')).toBeUndefined();
  });
});
