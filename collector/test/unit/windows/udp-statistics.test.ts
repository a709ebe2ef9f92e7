import fc from 'fast-check';
import { resolveConfig } from '../../../src/config';
import { ParseError } from '../../../src/errors';
import { createHostFs } from '../../../src/kernel/host-fs';
import { silentLogger } from '../../../src/log';
import type { SourceContext } from '../../../src/source';
import { AF_INET, AF_INET6, type UdpStatisticsBytes } from '../../../src/sources/windows/iphlpapi';
import { createWindowsUdpStatisticsSource, decodeUdpStatistics } from '../../../src/sources/windows/udp-statistics';
import { mibUdpStats, mibUdpStats2, type UdpStats } from '../../helpers/windows-structs';

const stats: UdpStats = { inDatagrams: 501, noPorts: 502, inErrors: 503, outDatagrams: 504, numAddrs: 505 };

function context(): SourceContext {
  const config = resolveConfig({}, {});
  return { config, fs: createHostFs(config), log: silentLogger() };
}

describe('decodeUdpStatistics', () => {
  it('reads MIB_UDPSTATS (IPv4) under the names of the Linux Udp line, dwNumAddrs left out', () => {
    const bytes = mibUdpStats(stats);
    expect(bytes.length).toBe(20);
    expect(Object.fromEntries(decodeUdpStatistics({ layout: 'MIB_UDPSTATS', bytes }, AF_INET))).toEqual({
      InDatagrams: 501,
      NoPorts: 502,
      InErrors: 503,
      OutDatagrams: 504,
    });
  });

  it('reads MIB_UDPSTATS2 with its two 64-bit counters (IPv6: the Linux snmp6 Udp6 names)', () => {
    const bytes = mibUdpStats2({ ...stats, inDatagrams: 2n ** 40n + 1n, outDatagrams: 2n ** 33n });
    expect(bytes.length).toBe(32);
    expect(Object.fromEntries(decodeUdpStatistics({ layout: 'MIB_UDPSTATS2', bytes }, AF_INET6))).toEqual({
      Udp6InDatagrams: 2 ** 40 + 1,
      Udp6NoPorts: 502,
      Udp6InErrors: 503,
      Udp6OutDatagrams: 2 ** 33,
    });
  });

  it('rejects a struct shorter than its documented size', () => {
    expect(() =>
      decodeUdpStatistics({ layout: 'MIB_UDPSTATS2', bytes: mibUdpStats2(stats).subarray(0, 31) }, AF_INET),
    ).toThrow(new ParseError('MIB_UDPSTATS2', 'truncated: the 32-byte struct needs bytes 0..32 but the buffer has 31'));
    fc.assert(
      fc.property(fc.nat(19), (cut) => {
        const bytes = mibUdpStats(stats).subarray(0, cut);
        expect(() => decodeUdpStatistics({ layout: 'MIB_UDPSTATS', bytes }, AF_INET)).toThrow(ParseError);
      }),
    );
  });

  it('decodes any 32 bytes to four whole, non-negative counters (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), (bytes, wide) => {
        const decoded = decodeUdpStatistics({ layout: wide ? 'MIB_UDPSTATS2' : 'MIB_UDPSTATS', bytes }, AF_INET);
        expect([...decoded.keys()]).toEqual(['InDatagrams', 'NoPorts', 'InErrors', 'OutDatagrams']);
        for (const value of decoded.values()) expect(Number.isInteger(value) && value >= 0).toBe(true);
      }),
    );
  });
});

describe('windows_udp_statistics', () => {
  const value = (samples: { labels: Record<string, string>; value: number }[] | undefined, name: string) =>
    samples?.find((sample) => sample.labels['statistic_name'] === name)?.value;

  it('adds the real growth when Windows answers in the other layout one time (64-bit, then 32-bit)', async () => {
    const answers: UdpStatisticsBytes[] = [
      { layout: 'MIB_UDPSTATS2', bytes: mibUdpStats2({ ...stats, inDatagrams: 2 ** 33 + 100 }) },
      // GetUdpStatisticsEx2 failed once: the DWORD holds the low 32 bits of the same counter, 50 datagrams later.
      { layout: 'MIB_UDPSTATS', bytes: mibUdpStats({ ...stats, inDatagrams: 150 }) },
      { layout: 'MIB_UDPSTATS2', bytes: mibUdpStats2({ ...stats, inDatagrams: 2 ** 33 + 170 }) },
    ];
    let call = 0;
    const source = createWindowsUdpStatisticsSource({
      readUdpStatistics: async (family) =>
        family === AF_INET ? answers[call++]! : { layout: 'MIB_UDPSTATS', bytes: mibUdpStats(stats) },
    });
    const inDatagrams = async () => value((await source.collect(context())).udpConnectionStats, 'InDatagrams');
    expect(await inDatagrams()).toBe(2 ** 33 + 100);
    expect(await inDatagrams()).toBe(2 ** 33 + 150);
    expect(await inDatagrams()).toBe(2 ** 33 + 170);
  });

  it('exports IPv4 and IPv6 under their Linux names, every one of them in the default set', async () => {
    const source = createWindowsUdpStatisticsSource({
      readUdpStatistics: async (family) => ({
        layout: 'MIB_UDPSTATS',
        bytes: mibUdpStats({ ...stats, noPorts: family === AF_INET ? 7 : 9 }),
      }),
    });
    const samples = (await source.collect(context())).udpConnectionStats!;
    expect(samples.map((sample) => sample.labels.statistic_name)).toEqual([
      'InDatagrams',
      'NoPorts',
      'InErrors',
      'OutDatagrams',
      'Udp6InDatagrams',
      'Udp6NoPorts',
      'Udp6InErrors',
      'Udp6OutDatagrams',
    ]);
    expect(value(samples, 'NoPorts')).toBe(7);
    expect(value(samples, 'Udp6NoPorts')).toBe(9);
  });
});
