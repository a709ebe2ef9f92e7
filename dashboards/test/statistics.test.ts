/**
 * The statistic_name regexes of the panel set put every counter the collector exports in the right panel: each
 * interface counter of Linux and Windows in bytes, packets, errors or drops (collisions among errors), each default
 * IP counter in octets, datagrams or errors, each default UDP counter in datagrams or errors, never in two. Prometheus
 * anchors label regexes at both ends; so does `anchored` here.
 */
import { NETDEV_STATISTICS } from '../../collector/src/kernel/net-dev';
import { SYSFS_EXTRA_STATISTICS } from '../../collector/src/sources/linux/netdev';
import { IP_DEFAULT_STATISTICS, UDP_DEFAULT_STATISTICS } from '../../collector/src/sources/linux/snmp-statistics';
import { INTERFACE_STATISTICS as WINDOWS_INTERFACE_STATISTICS } from '../../collector/src/sources/windows/interfaces';
import { INTERFACE_STATISTICS, IP_STATISTICS, TCP_RETRANSMIT_STATISTICS, UDP_STATISTICS } from '../src';
import { TCP_DEFAULT_STATISTICS } from '../../collector/src/sources/linux/snmp-statistics';
import { TCP_STATISTIC_NAMES as WINDOWS_TCP_STATISTICS } from '../../collector/src/sources/windows/tcp-statistics';

const anchored = (pattern: string) => new RegExp(`^(?:${pattern})$`);

function kindsOf(name: string, patterns: Readonly<Record<string, string>>): string[] {
  return Object.entries(patterns)
    .filter(([, pattern]) => anchored(pattern).test(name))
    .map(([kind]) => kind);
}

describe('statistic regexes of the panels', () => {
  const interfaceNames = [
    ...new Set([...NETDEV_STATISTICS, ...SYSFS_EXTRA_STATISTICS, ...Object.keys(WINDOWS_INTERFACE_STATISTICS)]),
  ];

  it.each(interfaceNames)('interface counter %s is in the panel of its kind', (name) => {
    const expected = name.endsWith('_bytes')
      ? ['bytes']
      : name.endsWith('_packets')
        ? ['packets']
        : name.endsWith('errors') || name === 'collisions'
          ? ['errors']
          : name.endsWith('_dropped')
            ? ['drops']
            : [];
    expect(kindsOf(name, INTERFACE_STATISTICS)).toEqual(expected);
  });

  it.each([...IP_DEFAULT_STATISTICS])('IP counter %s is in exactly one IP panel', (name) => {
    const kinds = kindsOf(name, IP_STATISTICS);
    expect(kinds).toHaveLength(1);
    if (name.endsWith('Octets')) expect(kinds).toEqual(['octets']);
  });

  it.each([...UDP_DEFAULT_STATISTICS])('UDP counter %s is in exactly one UDP panel', (name) => {
    expect(kindsOf(name, UDP_STATISTICS)).toEqual([name.endsWith('Datagrams') ? 'datagrams' : 'errors']);
  });

  it('computes the retransmission ratio from counters both platforms export', () => {
    for (const name of Object.values(TCP_RETRANSMIT_STATISTICS)) {
      expect((TCP_DEFAULT_STATISTICS as readonly string[]).includes(name)).toBe(true);
      expect((WINDOWS_TCP_STATISTICS as readonly string[]).includes(name)).toBe(true);
    }
  });
});
