import fc from 'fast-check';
import { ParseError } from '../../../src/errors';
import {
  decodeTcpStatistics,
  newTcpStatisticSums,
  TCP_STATISTIC_NAMES,
  tcpStatisticTotals,
  type TcpStatistic,
} from '../../../src/sources/windows/tcp-statistics';
import { mibTcpStats2, mibTcpStatsLh, type TcpStats } from '../../helpers/windows-structs';

const stats: TcpStats = {
  activeOpens: 101,
  passiveOpens: 102,
  attemptFails: 103,
  estabResets: 104,
  currEstab: 105,
  inSegs: 106,
  outSegs: 107,
  retransSegs: 108,
  inErrs: 109,
  outRsts: 110,
  numConns: 111,
};

const byName = (list: readonly TcpStatistic[]) => Object.fromEntries(list.map((s) => [s.name, s.value]));

describe('decodeTcpStatistics', () => {
  it('reads every counter of MIB_TCPSTATS_LH (32-bit) and leaves out gauges and settings', () => {
    const decoded = decodeTcpStatistics({ layout: 'MIB_TCPSTATS_LH', bytes: mibTcpStatsLh(stats) });
    expect(byName(decoded)).toEqual({
      ActiveOpens: 101,
      PassiveOpens: 102,
      AttemptFails: 103,
      EstabResets: 104,
      InSegs: 106,
      OutSegs: 107,
      RetransSegs: 108,
      InErrs: 109,
      OutRsts: 110,
    });
    expect(decoded.every((s) => s.bits === 32)).toBe(true);
  });

  it('reads MIB_TCPSTATS2 with its 64-bit segment counters after the alignment padding', () => {
    const bytes = mibTcpStats2({ ...stats, inSegs: 2n ** 40n + 7n, outSegs: 2n ** 33n });
    expect(bytes.length).toBe(72);
    const decoded = decodeTcpStatistics({ layout: 'MIB_TCPSTATS2', bytes });
    expect(byName(decoded)).toEqual(
      expect.objectContaining({ InSegs: 2 ** 40 + 7, OutSegs: 2 ** 33, RetransSegs: 108, OutRsts: 110 }),
    );
    expect(decoded.filter((s) => s.bits === 64).map((s) => s.name)).toEqual(['InSegs', 'OutSegs']);
  });

  it('rejects a struct shorter than its documented size', () => {
    const bytes = mibTcpStats2(stats);
    expect(() => decodeTcpStatistics({ layout: 'MIB_TCPSTATS2', bytes: bytes.subarray(0, 71) })).toThrow(
      new ParseError('MIB_TCPSTATS2', 'truncated: the 72-byte struct needs bytes 0..72 but the buffer has 71'),
    );
    fc.assert(
      fc.property(fc.nat(59), (cut) => {
        const lh = mibTcpStatsLh(stats).subarray(0, cut);
        expect(() => decodeTcpStatistics({ layout: 'MIB_TCPSTATS_LH', bytes: lh })).toThrow(ParseError);
      }),
    );
  });

  it('decodes any 72 bytes to nine whole, non-negative counters (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 72, maxLength: 72 }), fc.boolean(), (bytes, wide) => {
        const decoded = decodeTcpStatistics({ layout: wide ? 'MIB_TCPSTATS2' : 'MIB_TCPSTATS_LH', bytes });
        expect(decoded.map((s) => s.name)).toEqual([...TCP_STATISTIC_NAMES]);
        for (const { value } of decoded) expect(Number.isInteger(value) && value >= 0).toBe(true);
      }),
    );
  });
});

describe('tcpStatisticTotals', () => {
  const decode = (s: TcpStats, wide: boolean) =>
    decodeTcpStatistics(
      wide
        ? { layout: 'MIB_TCPSTATS2', bytes: mibTcpStats2(s) }
        : { layout: 'MIB_TCPSTATS_LH', bytes: mibTcpStatsLh(s) },
    );

  it('sums IPv4 and IPv6', () => {
    const totals = tcpStatisticTotals(
      new Map([
        ['ipv4', decode(stats, true)],
        ['ipv6', decode({ ...stats, activeOpens: 1, inSegs: 2 ** 35 }, true)],
      ]),
      newTcpStatisticSums(),
    );
    expect(totals.get('ActiveOpens')).toBe(102);
    expect(totals.get('InSegs')).toBe(106 + 2 ** 35);
  });

  it('carries a 32-bit counter across its wrap at 2^32 instead of falling back to a small number', () => {
    const sums = newTcpStatisticSums();
    tcpStatisticTotals(
      new Map([['ipv4', decode({ ...stats, outRsts: 2 ** 32 - 3, inSegs: 2 ** 32 - 1 }, false)]]),
      sums,
    );
    const after = tcpStatisticTotals(new Map([['ipv4', decode({ ...stats, outRsts: 4, inSegs: 9 }, false)]]), sums);
    expect(after.get('OutRsts')).toBe(2 ** 32 + 4);
    expect(after.get('InSegs')).toBe(2 ** 32 + 9);
  });

  it('adds the real growth when Windows answers in the other layout one time (64-bit InSegs, then 32-bit)', () => {
    const sums = newTcpStatisticSums();
    const inSegs = (value: number, wide: boolean) =>
      tcpStatisticTotals(new Map([['ipv4', decode({ ...stats, inSegs: value }, wide)]]), sums).get('InSegs');
    expect(inSegs(2 ** 33 + 100, true)).toBe(2 ** 33 + 100);
    // GetTcpStatisticsEx2 failed once: the DWORD holds the low 32 bits of the same counter, 50 segments later.
    expect(inSegs(150, false)).toBe(2 ** 33 + 150);
    expect(inSegs(2 ** 33 + 170, true)).toBe(2 ** 33 + 170);
  });
});
