/**
 * Drops the tracepoint never names (sources/linux/drops/untraced-drops.ts): the growth of ListenDrops since the events
 * strategy started, minus the TCP_LISTEN_OVERFLOW events it saw meanwhile, never decreasing.
 */
import type { SnmpTables } from '../../src/kernel/net-snmp';
import type { Sample } from '../../src/source';
import { createUntracedDrops, UNTRACED_DROP_ROWS } from '../../src/sources/linux/drops/untraced-drops';
import { DROP_REASON_CLASSES } from '../../src/drop-reason-classes';

const netstat = (listenDrops: number | undefined): SnmpTables =>
  new Map([['TcpExt', new Map(listenDrops === undefined ? [] : [['ListenDrops', listenDrops]])]]);
const events = (listenOverflow: number, other = 0): Sample<'dropCount'>[] => [
  { labels: { reason: 'TCP_LISTEN_OVERFLOW', direction: 'ingress' }, value: listenOverflow },
  { labels: { reason: 'NO_SOCKET', direction: 'ingress' }, value: other },
];
const synDrop = (value: number) => [{ labels: { reason: 'TCP_LISTEN_SYN_DROP', direction: 'ingress' }, value }];

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
    expect(createUntracedDrops().samples(netstat(undefined), events(0))).toEqual([]);
  });

  it('classifies every reason it exports', () => {
    const classified = new Set(DROP_REASON_CLASSES.map((entry) => entry.reason));
    for (const row of UNTRACED_DROP_ROWS) expect(classified.has(row.reason) ? row.reason : undefined).toBe(row.reason);
  });
});
