/**
 * Drops the tracepoint never names (sources/linux/drops/untraced-drops.ts): per row, the growth of a kernel counter
 * since the events strategy started, minus the events of the reasons it also counts, never decreasing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SnmpTables } from '../../src/kernel/net-snmp';
import {
  LINK_STATS64_FIELDS,
  parseLinkDump,
  type LinkStats64,
  type RtnetlinkLink,
} from '../../src/kernel/rtnetlink-link';
import type { Sample } from '../../src/source';
import {
  createUntracedDrops,
  rxMissedErrors,
  UNTRACED_DROP_ROWS,
  type UntracedCounters,
} from '../../src/sources/linux/drops/untraced-drops';
import { DROP_REASON_CLASSES } from '../../src/drop-reason-classes';
import { FIXTURES } from '../helpers/fixtures';

interface Counts {
  listenDrops?: number;
  outNoRoutes?: number;
  ip6OutNoRoutes?: number;
  rxMissed?: number;
}
const counters = ({ listenDrops, outNoRoutes, ip6OutNoRoutes, rxMissed }: Counts): UntracedCounters => ({
  netstat: new Map([['TcpExt', new Map(listenDrops === undefined ? [] : [['ListenDrops', listenDrops]])]]),
  snmp: new Map([['Ip', new Map(outNoRoutes === undefined ? [] : [['OutNoRoutes', outNoRoutes]])]]) as SnmpTables,
  snmp6: ip6OutNoRoutes === undefined ? undefined : new Map([['Ip6OutNoRoutes', ip6OutNoRoutes]]),
  rxMissedErrors: rxMissed,
});
const netstat = (listenDrops: number | undefined) => counters({ listenDrops });
const event = (reason: string, value: number, direction = 'ingress'): Sample<'dropCount'> => ({
  labels: { reason, direction },
  value,
});
const events = (listenOverflow: number, other = 0): Sample<'dropCount'>[] => [
  event('TCP_LISTEN_OVERFLOW', listenOverflow),
  event('NO_SOCKET', other),
];
const synDrop = (value: number) => [{ labels: { reason: 'TCP_LISTEN_SYN_DROP', direction: 'ingress' }, value }];
const only = (samples: Sample<'dropCount'>[], reason: string) =>
  samples.filter((sample) => sample.labels.reason === reason).map((sample) => sample.value);

describe('drops the tracepoint never names', () => {
  it('starts at 0 whatever the counter says when the events strategy starts', () => {
    expect(createUntracedDrops().samples(netstat(5000), events(0))).toEqual(synDrop(0));
  });

  it('counts ListenDrops growth that no TCP_LISTEN_OVERFLOW event accounts for (SYNs freed by consume_skb)', () => {
    const untraced = createUntracedDrops();
    untraced.samples(netstat(5000), events(0, 7));
    // A full accept queue: 108 SYNs dropped, no event; and 4 final ACKs dropped on the ACK path, 4 events.
    expect(untraced.samples(netstat(5112), events(4, 50))).toEqual(synDrop(108));
  });

  it('never decreases: events of other namespaces counted before the node drops anything are not taken back', () => {
    const untraced = createUntracedDrops();
    untraced.samples(netstat(0), events(0));
    expect(untraced.samples(netstat(0), events(30))).toEqual(synDrop(0));
    expect(untraced.samples(netstat(20), events(30))).toEqual(synDrop(0));
    expect(untraced.samples(netstat(50), events(30))).toEqual(synDrop(20));
    expect(untraced.samples(netstat(50), events(40))).toEqual(synDrop(20));
  });

  it('exports nothing for a counter this kernel does not have', () => {
    expect(createUntracedDrops().samples(counters({}), events(0))).toEqual([]);
  });

  it('counts sends refused for want of a route (IPv4 and IPv6) less the no-route drops that were events', () => {
    const untraced = createUntracedDrops();
    untraced.samples(counters({ outNoRoutes: 40, ip6OutNoRoutes: 2 }), []);
    // 25 UDP sendto() and 5 IPv6 ones failed with ENETUNREACH (no packet); 3 TCP segments of a connection whose
    // route went away were freed by __ip_queue_xmit (IP_OUTNOROUTES events) and 1 IPv6 packet found no neighbour
    // entry (NEIGH_CREATEFAIL, also in Ip6OutNoRoutes). QDISC_DROP is not a no-route drop.
    const after = untraced.samples(counters({ outNoRoutes: 68, ip6OutNoRoutes: 8 }), [
      event('IP_OUTNOROUTES', 3, 'egress'),
      event('NEIGH_CREATEFAIL', 1, 'egress'),
      event('QDISC_DROP', 9, 'egress'),
    ]);
    expect(only(after, 'IP_OUTNOROUTES_UNTRACED')).toEqual([30]);
    expect(after.find((s) => s.labels.reason === 'IP_OUTNOROUTES_UNTRACED')?.labels.direction).toBe('egress');
  });

  it('counts the NIC frames missed for want of receive buffers from rx_missed_errors, nothing subtracted', () => {
    const untraced = createUntracedDrops();
    untraced.samples(counters({ rxMissed: 1000 }), [event('NOT_SPECIFIED', 5)]);
    expect(
      only(untraced.samples(counters({ rxMissed: 1250 }), [event('NOT_SPECIFIED', 90)]), 'NETDEV_RX_MISSED'),
    ).toEqual([250]);
  });

  it('classifies every reason it exports', () => {
    const classified = new Set(DROP_REASON_CLASSES.map((entry) => entry.reason));
    for (const row of UNTRACED_DROP_ROWS) expect(classified.has(row.reason) ? row.reason : undefined).toBe(row.reason);
  });
});

describe('rx_missed_errors over the links of a recorded dump', () => {
  // The links and IFLA_STATS64 of a real dump (test/fixtures/linux/rtnetlink). Its veths and bridges cannot miss a
  // frame (rx_missed_errors 0): the NIC counts and the bond below are set here, not recorded.
  const recorded = parseLinkDump(fs.readFileSync(path.join(FIXTURES, 'linux', 'rtnetlink', 'links.dump')), true).links;
  const withMissed = (link: RtnetlinkLink, missed: bigint): RtnetlinkLink => ({
    ...link,
    stats64: {
      ...Object.fromEntries(LINK_STATS64_FIELDS.map((field) => [field, link.stats64![field]])),
      rx_missed_errors: missed,
    } as LinkStats64,
  });

  it('is 0 on the recorded veths, bridges and lo', () => {
    expect(recorded.length).toBeGreaterThan(3);
    expect(rxMissedErrors(recorded)).toBe(0);
  });

  it('sums every link but a bond, whose counters are its slaves folded', () => {
    const eth0 = recorded.find((link) => link.name === 'eth0')!;
    const slaveA = withMissed({ ...eth0, name: 'enP1', index: 90, masterIndex: 92, kind: undefined }, 700n);
    const slaveB = withMissed({ ...eth0, name: 'enP2', index: 91, masterIndex: 92, kind: undefined }, 50n);
    const bond = withMissed({ ...eth0, name: 'bond0', index: 92, kind: 'bond' }, 750n);
    const links = [...recorded.filter((link) => link !== eth0), withMissed(eth0, 3n), slaveA, slaveB, bond];
    expect(rxMissedErrors(links)).toBe(753);
  });

  it('adds nothing for a link the kernel sent without 64-bit statistics', () => {
    expect(rxMissedErrors([{ kind: undefined, stats64: undefined }])).toBe(0);
  });
});
