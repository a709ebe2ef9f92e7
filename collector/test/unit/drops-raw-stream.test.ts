/**
 * The binary drop decoder against the text one on the SAME ring buffer, recorded from this kernel
 * (test/fixtures/linux/tracefs-raw/record.py saved the instance's `trace` text, then consumed its trace_pipe_raw
 * pages): both must give the same totals by reason and direction, and at least what the kernel's own counters of the
 * recording namespace moved by.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { KallsymsParser, parseKallsyms } from '../../src/kernel/kallsyms';
import { kernelStackRecordLayout, kfreeSkbRecordLayout } from '../../src/kernel/tracefs/binary-records';
import { parseEventFormat } from '../../src/kernel/tracefs/format';
import { parseHeaderPage } from '../../src/kernel/tracefs/ring-buffer-page';
import { NOT_DROPS, reasonNames } from '../../src/sources/linux/drops/kfree-skb';
import { keepPathFunction, RawDropStream } from '../../src/sources/linux/drops/raw-stream-decoder';
import { DropStream } from '../../src/sources/linux/drops/stream-decoder';
import { DropTally } from '../../src/sources/linux/drops/tally';
import { FIXTURES, fixture } from '../helpers/fixtures';

const DIR = 'linux/tracefs-raw';
const PAGE_SIZE = Number(fixture(`${DIR}/page_size`).trim());
const dropFormat = parseEventFormat(fixture(`${DIR}/kfree_skb.format`));
const layouts = {
  page: parseHeaderPage(fixture(`${DIR}/header_page`)),
  drop: kfreeSkbRecordLayout(dropFormat),
  stack: kernelStackRecordLayout(parseEventFormat(fixture(`${DIR}/kernel_stack.format`))),
};
const counts = JSON.parse(fixture(`${DIR}/counts.json`)) as {
  kernel: { UdpNoPorts: number; TcpOutRsts: number; nftDropCounter: number };
};

function pages(cpu: number): Buffer[] {
  const bytes = fs.readFileSync(path.join(FIXTURES, DIR, `cpu${cpu}.pages`));
  return Array.from({ length: bytes.length / PAGE_SIZE }, (_, i) => bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
}

function rawStream(tally: DropTally, symbolsText = fixture(`${DIR}/kallsyms`)): RawDropStream {
  return new RawDropStream(tally, layouts, {
    reasonNames: reasonNames(dropFormat),
    ignoredReasons: NOT_DROPS,
    netfilterStacks: true,
    symbols: parseKallsyms(symbolsText, 'kallsyms', { keepName: keepPathFunction }),
  });
}

/** Totals by "REASON/direction". */
function totals(tally: DropTally): Record<string, number> {
  return Object.fromEntries(
    tally
      .countSamples()
      .map((sample) => [`${sample.labels.reason}/${sample.labels.direction}`, sample.value] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

function decodeText(): DropTally {
  const tally = new DropTally();
  const stream = new DropStream(tally, { ignoredReasons: NOT_DROPS, netfilterStacks: true, symbols: undefined });
  stream.push(
    fixture(`${DIR}/trace`)
      .split('\n')
      .filter((line) => !line.startsWith('#') && line !== ''),
  );
  stream.settle();
  stream.flushAll();
  return tally;
}

describe('raw drop decoder (trace_pipe_raw pages)', () => {
  it('counts what the text decoder counts from the kernel text of the same buffer, by reason and direction', () => {
    const tally = new DropTally();
    const stream = rawStream(tally);
    for (const cpu of [0, 1]) for (const page of pages(cpu)) stream.pushPage(page, page.length, cpu);
    stream.settle();
    stream.flushAll();
    expect(stream.parseErrors).toBe(0);
    expect(totals(tally)).toEqual(totals(decodeText()));
  });

  it('counts at least what the kernel counted in the recording namespace, with directions from reasons and stacks', () => {
    const tally = new DropTally();
    const stream = rawStream(tally);
    for (const cpu of [0, 1]) for (const page of pages(cpu)) stream.pushPage(page, page.length, cpu);
    stream.flushAll();
    // Udp NoPorts, plus a SYN per TCP attempt (answered with a reset: Tcp OutRsts).
    expect(tally.packets('NO_SOCKET', 'ingress')).toBeGreaterThanOrEqual(
      counts.kernel.UdpNoPorts + counts.kernel.TcpOutRsts,
    );
    // nft output drops: direction from the kernel stack that follows each.
    expect(tally.packets('NETFILTER_DROP', 'egress')).toBeGreaterThanOrEqual(counts.kernel.nftDropCounter);
    expect(tally.packets('NETFILTER_DROP', 'unknown')).toBe(0);
    expect(stream.netfilterEvents).toBeGreaterThanOrEqual(counts.kernel.nftDropCounter);
  });

  it('gives the same totals read one page per drain, a netfilter drop waiting across pages for its stack', () => {
    const whole = new DropTally();
    const all = rawStream(whole);
    const paged = new DropTally();
    const onePerDrain = rawStream(paged);
    for (const cpu of [0, 1]) {
      for (const page of pages(cpu)) {
        all.pushPage(page, page.length, cpu);
        onePerDrain.pushPage(page, page.length, cpu);
        onePerDrain.settle();
      }
    }
    all.flushAll();
    onePerDrain.flushAll();
    expect(totals(paged)).toEqual(totals(whole));
  });

  it('without stacks, netfilter drops count with direction unknown as they come', () => {
    const tally = new DropTally();
    const stream = rawStream(tally);
    stream.setNetfilterStacks(false);
    for (const cpu of [0, 1]) for (const page of pages(cpu)) stream.pushPage(page, page.length, cpu);
    expect(tally.packets('NETFILTER_DROP', 'unknown')).toBeGreaterThanOrEqual(counts.kernel.nftDropCounter);
  });

  it('without the function names, drops still count by the reason alone (the direction the reason gives)', () => {
    const tally = new DropTally();
    const stream = rawStream(tally, 'ffffffff81000000 T _stext\n');
    for (const cpu of [0, 1]) for (const page of pages(cpu)) stream.pushPage(page, page.length, cpu);
    stream.flushAll();
    expect(tally.packets('NO_SOCKET', 'ingress')).toBeGreaterThanOrEqual(counts.kernel.UdpNoPorts);
    expect(tally.packets('NETFILTER_DROP', 'unknown')).toBeGreaterThanOrEqual(counts.kernel.nftDropCounter);
  });

  it('counts a record of another event, and a page it cannot read, as unreadable (lost), never as a drop', () => {
    const tally = new DropTally();
    const stream = rawStream(tally);
    const page = Buffer.from(pages(0)[0]!);
    // The first record's common_type (payload at 16 + 4) becomes an id no format names.
    page.writeUInt16LE(0xfffe, 20);
    stream.pushPage(page, page.length, 0);
    expect(stream.parseErrors).toBe(1);
    expect(stream.lastParseError).toMatch(/event id 65534/);
    const broken = Buffer.from(page);
    broken.writeUInt32LE(PAGE_SIZE * 2, 8);
    stream.pushPage(broken, broken.length, 0);
    expect(stream.parseErrors).toBe(2);
  });

  it('keeps from kallsyms only the functions that name a path, a reason or a netfilter drop', () => {
    expect(keepPathFunction('__udp4_lib_rcv')).toBe(true);
    expect(keepPathFunction('nft_do_chain')).toBe(true);
    expect(keepPathFunction('__ip_local_out')).toBe(true);
    expect(keepPathFunction('neigh_resolve_output')).toBe(true);
    expect(keepPathFunction('br_nf_pre_routing')).toBe(true);
    expect(keepPathFunction('ip_rcv_core.isra.0')).toBe(true);
    expect(keepPathFunction('trace_event_raw_event_kfree_skb')).toBe(false);
    expect(keepPathFunction('do_syscall_64')).toBe(false);
  });
});

describe('kallsyms with only some names kept', () => {
  const text =
    'ffffffff81000000 T _stext\nffffffff81000100 t keep_me\nffffffff81000200 t drop_me\n' +
    'ffffffffc0001000 t keep_me_too\t[mod]\nffffffffc0000000 t mod_start\t[mod]\n';
  const symbols = parseKallsyms(text, 'kallsyms', { keepName: (name) => name.startsWith('keep') });

  it('names kept functions, leaves others unnamed, and ends a range at the next symbol whatever its name', () => {
    expect(symbols.size).toBe(5);
    expect(symbols.functionAt(0xffffffff81000150n)).toBe('keep_me');
    expect(symbols.functionAtWords(0xffffffff, 0x81000150)).toBe('keep_me');
    expect(symbols.functionAt(0xffffffff81000250n)).toBeUndefined();
    expect(symbols.rangeOf('keep_me')).toEqual([0xffffffff81000100n, 0xffffffff81000200n]);
    expect(symbols.rangeOf('drop_me')).toBeUndefined();
  });

  it('gives the same table whatever chunks the bytes come in (readKallsyms reads 64 KiB at a time)', () => {
    const recorded = fixture(`${DIR}/kallsyms`);
    const whole = parseKallsyms(recorded);
    const addresses = recorded
      .split('\n')
      .slice(0, -1)
      .map((line) => BigInt(`0x${line.split(' ')[0]!}`) + 3n);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: recorded.length }),
        fc.integer({ min: 0, max: recorded.length }),
        (a, b) => {
          const [first, second] = [Math.min(a, b), Math.max(a, b)];
          const bytes = Buffer.from(recorded, 'latin1');
          const parser = new KallsymsParser();
          parser.push(bytes.subarray(0, first));
          parser.push(bytes.subarray(first, second));
          parser.push(bytes.subarray(second));
          const chunked = parser.finish();
          expect(chunked.size).toBe(whole.size);
          for (const address of addresses) expect(chunked.functionAt(address)).toBe(whole.functionAt(address));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('sorts module symbols printed out of order', () => {
    expect(symbols.functionAt(0xffffffffc0000010n)).toBeUndefined();
    expect(symbols.functionAt(0xffffffffc0001010n)).toBe('keep_me_too');
    expect(symbols.rangeOf('keep_me_too')![0]).toBe(0xffffffffc0001000n);
  });
});
