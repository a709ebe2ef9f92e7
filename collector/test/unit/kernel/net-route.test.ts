import { ParseError } from '../../../src/errors';
import {
  defaultRouteInterfaces,
  isDefaultRoute,
  parseIpv4Routes as parseIpv4RoutesBytes,
  parseIpv6Routes as parseIpv6RoutesBytes,
  type Route,
} from '../../../src/kernel/net-route';
import { fixture } from '../../helpers/fixtures';
import { assertParsesOrRejects } from '../../helpers/parser-fuzz';

/** The parser given a test's text as its UTF-8 bytes (the file holds bytes). */
const parseIpv4Routes = (text: string, file?: string) => parseIpv4RoutesBytes(Buffer.from(text, 'utf8'), file);
/** The parser given a test's text as its UTF-8 bytes (the file holds bytes). */
const parseIpv6Routes = (text: string, file?: string) => parseIpv6RoutesBytes(Buffer.from(text, 'utf8'), file);

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

  it('read device names from the bytes, as their labels (interface-name.ts)', () => {
    const v4 = Buffer.concat([
      Buffer.from('Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n'),
      Buffer.from([0x74, 0x36, 0xff, 0xfe]),
      Buffer.from('\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n'),
      Buffer.from([0x74, 0x36, 0xfe, 0xff]),
      Buffer.from('\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n'),
    ]);
    expect(parseIpv4RoutesBytes(v4).map((r) => r.interfaceName)).toEqual(['t6\\xff\\xfe', 't6\\xfe\\xff']);
    expect(defaultRouteInterfaces(parseIpv4RoutesBytes(v4))).toEqual(['t6\\xff\\xfe']);
    const zeros = '0'.repeat(32);
    const v6 = Buffer.concat([
      Buffer.from(`${zeros} 00 ${zeros} 00 ${zeros} 00000400 00000001 00000000 00000003 `),
      Buffer.from([0x74, 0x36, 0xfe, 0xff]),
      Buffer.from('\n'),
    ]);
    expect(parseIpv6RoutesBytes(v6).map((r) => r.interfaceName)).toEqual(['t6\\xfe\\xff']);
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
