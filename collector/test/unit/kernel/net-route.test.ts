import { ParseError } from '../../../src/errors';
import {
  defaultRouteInterfaces,
  isDefaultRoute,
  parseIpv4Routes,
  parseIpv6Routes,
  type Route,
} from '../../../src/kernel/net-route';
import { fixture } from '../../helpers/fixtures';
import { assertParsesOrRejects } from '../../helpers/parser-fuzz';

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

  it('read an empty /proc/net/route (a namespace with no IPv4 route prints no header) as no routes', () => {
    expect(parseIpv4Routes('')).toEqual([]);
    expect(() => parseIpv4Routes('Iface\tDestination\n')).toThrow(ParseError);
  });

  it('reject malformed lines', () => {
    const header = fixture('linux/net/veth/route').split('\n')[0] + '\n';
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
      assertParsesOrRejects(text, parse, (parsed, isPrefix) => {
        if (isPrefix) expect(parsed).toEqual(whole.slice(0, parsed.length));
      });
    },
  );
});
