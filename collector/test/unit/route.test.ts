import fc from 'fast-check';
import { DIRECTION, LABEL } from '../../src/catalog';
import { ParseError } from '../../src/errors';
import { forwardSamples, newForwardSums } from '../../src/sources/forward-totals';
import { chooseUplinks, uplinkCounters } from '../../src/sources/linux/forward';
import { parseNetDev } from '../../src/sources/linux/netdev';
import {
  defaultRouteInterfaces,
  isDefaultRoute,
  parseIpv4Routes,
  parseIpv6Routes,
  type Route,
} from '../../src/sources/linux/route';
import { fixture } from '../helpers/fixtures';

const HOSTS = ['host', 'veth', 'nov6', 'manyveth'] as const;
const routesOf = (host: string) => ({
  v4: parseIpv4Routes(fixture(`linux/net/${host}/route`)),
  v6: parseIpv6Routes(fixture(`linux/net/${host}/ipv6_route`)),
});

describe('route parsers', () => {
  it('find the default-route interfaces of recorded namespaces', () => {
    const veth = routesOf('veth');
    expect(defaultRouteInterfaces(veth.v4)).toEqual(['eth0']);
    expect(defaultRouteInterfaces(veth.v6)).toEqual(['eth0']);
    // IPv4 default only: the IPv6 table holds just the kernel's unreachable default on lo, which is no uplink.
    const nov6 = routesOf('nov6');
    expect(defaultRouteInterfaces(nov6.v4, nov6.v6)).toEqual(['ens5']);
    expect(defaultRouteInterfaces(nov6.v6)).toEqual([]);
    const loDefault = nov6.v6.find((r) => r.interfaceName === 'lo' && r.prefixLength === 0 && r.zeroDestination);
    expect(loDefault && isDefaultRoute(loDefault)).toBe(false);
    const many = routesOf('manyveth');
    expect(defaultRouteInterfaces(many.v4, many.v6)).toEqual([]);
    const host = routesOf('host');
    expect(defaultRouteInterfaces(host.v4, host.v6).length).toBeGreaterThan(0);
  });

  it('read prefix lengths and flags', () => {
    const [defaultRoute, subnet] = parseIpv4Routes(fixture('linux/net/nov6/route'));
    expect(defaultRoute).toEqual({ interfaceName: 'ens5', prefixLength: 0, zeroDestination: true, flags: 0x3 });
    expect(subnet).toEqual({ interfaceName: 'ens5', prefixLength: 24, zeroDestination: false, flags: 0x1 });
    const v6 = parseIpv6Routes(fixture('linux/net/veth/ipv6_route'));
    expect(v6.map((r) => r.prefixLength)).toEqual([64, 64, 0, 128, 128, 8, 0]);
  });

  it('counts only routes that are up and not reject routes', () => {
    const route = (flags: number): Route => ({ interfaceName: 'x', prefixLength: 0, zeroDestination: true, flags });
    expect(isDefaultRoute(route(0x1))).toBe(true);
    expect(isDefaultRoute(route(0x0))).toBe(false);
    expect(isDefaultRoute(route(0x0201))).toBe(false);
    expect(isDefaultRoute({ ...route(0x1), prefixLength: 1 })).toBe(false);
    expect(isDefaultRoute({ ...route(0x1), zeroDestination: false })).toBe(false);
  });

  it('reject malformed lines', () => {
    const header = fixture('linux/net/veth/route').split('\n')[0] + '\n';
    expect(() => parseIpv4Routes('')).toThrow(ParseError);
    expect(() => parseIpv4Routes(header + 'eth0\t00000000\t0001\n')).toThrow(/expected 11 fields/);
    expect(() => parseIpv4Routes(header + 'eth0 0000000G 00000000 0003 0 0 0 00000000 0 0 0\n')).toThrow(ParseError);
    expect(() => parseIpv6Routes('00 00 lo\n')).toThrow(/expected 10 fields/);
    const line = fixture('linux/net/veth/ipv6_route').split('\n')[0]!;
    expect(() => parseIpv6Routes(line.replace(' 40 ', ' 99 ') + '\n')).toThrow(/over 128/);
  });

  it.each(HOSTS.flatMap((h) => [`linux/net/${h}/route`, `linux/net/${h}/ipv6_route`]))(
    'never crash on arbitrary input or truncations of %s (fuzz)',
    (file) => {
      const parse = file.endsWith('ipv6_route') ? parseIpv6Routes : parseIpv4Routes;
      const text = fixture(file);
      const whole = parse(text);
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 300 }),
            fc.integer({ min: 0, max: text.length - 1 }).map((cut) => text.slice(0, cut)),
          ),
          (input) => {
            try {
              const parsed = parse(input);
              if (text.startsWith(input)) expect(parsed).toEqual(whole.slice(0, parsed.length));
            } catch (error) {
              expect(error).toBeInstanceOf(ParseError);
            }
          },
        ),
      );
    },
  );
});

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
