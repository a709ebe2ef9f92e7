import { DIRECTION, LABEL } from '../../src/catalog';
import { parseNetDev as parseNetDevBytes } from '../../src/kernel/net-dev';
import { forwardSamples, newForwardSums } from '../../src/sources/forward-totals';
import { chooseUplinks, uplinkCounters } from '../../src/sources/linux/forward';
import { fixture } from '../helpers/fixtures';

/** The parser given a test's text as its UTF-8 bytes (the file holds bytes). */
const parseNetDev = (text: string, file?: string) => parseNetDevBytes(Buffer.from(text, 'utf8'), file);

describe('forward uplinks', () => {
  it('uses the default-route interfaces, or the configured globs', () => {
    expect(chooseUplinks([], ['lo', 'eth0', 'eth1'], ['eth0'])).toEqual({ uplinks: ['eth0'] });
    expect(chooseUplinks(['eth*'], ['lo', 'eth0', 'eth1'], [])).toEqual({ uplinks: ['eth0', 'eth1'] });
    // A default route through a device that is not in /proc/net/dev (e.g. `*`) is no uplink.
    expect(chooseUplinks([], ['lo'], ['*']).missing).toMatch(/no IPv4 or IPv6 default route/);
    expect(chooseUplinks(['bond*'], ['lo'], ['lo']).missing).toMatch(/no interface matches --uplink-interfaces bond\*/);
  });

  it('sums rx as ingress and tx as egress over the uplinks, never falling', () => {
    const netdev = (rows: Record<string, [number, number, number, number]>) =>
      parseNetDev(
        fixture('linux/net/veth/dev').split('\n').slice(0, 2).join('\n') +
          '\n' +
          Object.entries(rows)
            .map(([name, [rb, rp, tb, tp]]) => `${name}: ${rb} ${rp} 0 0 0 0 0 0 ${tb} ${tp} 0 0 0 0 0 0\n`)
            .join(''),
      );
    const sums = newForwardSums();
    const value = (s: { labels: Record<string, string>; value: number }[], direction: string) =>
      s.find((x) => x.labels[LABEL.direction] === direction)?.value;
    const ifindexes = new Map([
      ['lo', 1],
      ['eth0', 2],
      ['eth1', 3],
    ]);
    const gather = (rows: Parameters<typeof netdev>[0], uplinks: string[]) =>
      forwardSamples(uplinkCounters(netdev(rows), uplinks, ifindexes), sums);
    let out = gather({ lo: [9, 9, 9, 9], eth0: [1000, 10, 500, 5], eth1: [1, 1, 1, 1] }, ['eth0']);
    expect(value(out.forwardBytes, DIRECTION.ingress)).toBe(1000);
    expect(value(out.forwardCount, DIRECTION.ingress)).toBe(10);
    expect(value(out.forwardBytes, DIRECTION.egress)).toBe(500);
    expect(value(out.forwardCount, DIRECTION.egress)).toBe(5);
    // The default route moves to eth1: the counters carry on from where they were, eth1 counted from its creation.
    out = gather({ eth0: [1100, 11, 600, 6], eth1: [2, 2, 2, 2] }, ['eth1']);
    expect(value(out.forwardBytes, DIRECTION.ingress)).toBe(1002);
    out = gather({ eth1: [3, 3, 3, 3] }, []);
    expect(out).toEqual({ forwardCount: [], forwardBytes: [] });
  });
});
