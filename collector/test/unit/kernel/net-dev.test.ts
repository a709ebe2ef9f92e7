import fc from 'fast-check';
import { ParseError } from '../../../src/errors';
import {
  counterOf,
  NETDEV_STATISTICS,
  parseNetDev as parseNetDevBytes,
  type NetDevInterface,
} from '../../../src/kernel/net-dev';
import { fixture } from '../../helpers/fixtures';
import { NETDEV_HEADER, netdevLine, netdevText } from '../../helpers/net-dev-text';

/** The parser given a test's text as its UTF-8 bytes (the file holds bytes). */
const parseNetDev = (text: string, file?: string) => parseNetDevBytes(Buffer.from(text, 'utf8'), file);

const FIXTURES = ['host', 'veth', 'nov6', 'manyveth'].map((name) => `linux/net/${name}/dev`);

describe('parseNetDev', () => {
  it('reads every interface and all 16 counters of recorded files', () => {
    const veth = parseNetDev(fixture('linux/net/veth/dev'));
    expect(veth.map((i) => i.name)).toEqual(['lo', 'eth0']);
    // Recorded after 3 IPv4 and 3 IPv6 pings (and their neighbour discovery) from this namespace.
    expect(counterOf(veth[1]!, 'tx_packets')).toBeGreaterThanOrEqual(6);
    expect(counterOf(veth[1]!, 'rx_packets')).toBeGreaterThanOrEqual(6);
    expect(veth[1]!.values).toHaveLength(NETDEV_STATISTICS.length);
    const many = parseNetDev(fixture('linux/net/manyveth/dev'));
    expect(many).toHaveLength(402);
    expect(many.filter((i) => /^(veth|azv|lxc|cali)/.test(i.name))).toHaveLength(200);
    expect(parseNetDev(fixture('linux/net/host/dev')).map((i) => i.name)).toContain('lo');
  });

  it('maps columns to names in file order', () => {
    const [eth] = parseNetDev(
      NETDEV_HEADER +
        netdevLine(
          'eth0',
          NETDEV_STATISTICS.map((_, i) => i + 100),
        ),
    );
    NETDEV_STATISTICS.forEach((statistic, i) => expect(counterOf(eth!, statistic)).toBe(i + 100));
  });

  it('reads names the kernel prints without a space after the colon', () => {
    const text = NETDEV_HEADER + `vethabcdefghijk:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n`;
    expect(parseNetDev(text)[0]).toEqual(expect.objectContaining({ name: 'vethabcdefghijk' }));
  });

  it('reads alias rows of old kernels (eth0:1:) as interfaces of their own, not a failure of the file', () => {
    const text = NETDEV_HEADER + netdevLine('eth0', Array(16).fill(5)) + `eth0:1: ${Array(16).fill(7).join(' ')}\n`;
    expect(parseNetDev(text).map(({ name, values }) => [name, values[0]])).toEqual([
      ['eth0', 5],
      ['eth0:1', 7],
    ]);
    expect(() => parseNetDev(NETDEV_HEADER + `a:b:c: ${Array(16).fill(0).join(' ')}\n`)).toThrow(/NAME: counters/);
  });

  it('keeps non-ASCII names as the text holds them', () => {
    expect(parseNetDev(NETDEV_HEADER + netdevLine('nét0', Array(16).fill(0)))[0]!.name).toBe('nét0');
  });

  it('reads names from the bytes: two names that differ only in bytes that are not UTF-8 are two interfaces', () => {
    const row = (name: Buffer, value: number) =>
      Buffer.concat([Buffer.from('  '), name, Buffer.from(`: ${Array(16).fill(value).join(' ')}\n`)]);
    const file = Buffer.concat([
      Buffer.from(NETDEV_HEADER),
      row(Buffer.from('lo'), 1),
      row(Buffer.from([0x74, 0x36, 0xff, 0xfe]), 2),
      row(Buffer.from([0x74, 0x36, 0xfe, 0xff]), 3),
      row(Buffer.from('t6\\xff\\xfe', 'latin1'), 4), // a literal backslash: the first one's label, spelled out
      row(Buffer.from('nét0'), 5),
      row(Buffer.from([0x61, 0xc2, 0x85]), 6), // U+0085: a control character, not whitespace to the kernel
    ]);
    const parsed = parseNetDevBytes(file);
    expect(parsed.map(({ name, values }) => [name, values[0]])).toEqual([
      ['lo', 1],
      ['t6\\xff\\xfe', 2],
      ['t6\\xfe\\xff', 3],
      ['t6\\\\xff\\\\xfe', 4],
      ['nét0', 5],
      ['a\\xc2\\x85', 6],
    ]);
    // The same bytes twice are still the same interface twice.
    const twice = Buffer.concat([file, row(Buffer.from([0x74, 0x36, 0xfe, 0xff]), 7)]);
    expect(() => parseNetDevBytes(twice)).toThrow(/interface t6\\xfe\\xff appears twice/);
  });

  it('rejects a wrong header, a wrong column count, a repeated interface', () => {
    expect(() =>
      parseNetDev(NETDEV_HEADER.replace('colls', 'collisions') + netdevLine('lo', Array(16).fill(0))),
    ).toThrow(ParseError);
    expect(() => parseNetDev(NETDEV_HEADER + netdevLine('lo', Array(15).fill(0)), 'net/dev')).toThrow(
      new ParseError('net/dev', 'lo: expected 16 counters, got 15', 3),
    );
    expect(() => parseNetDev(NETDEV_HEADER + netdevLine('lo', Array(17).fill(0)))).toThrow(ParseError);
    expect(() => parseNetDev(netdevText({ lo: 1 }) + netdevLine('lo', Array(16).fill(0)))).toThrow(/twice/);
    expect(() => parseNetDev('')).toThrow(ParseError);
    const huge = [...Array(15).fill(0), '9007199254740993'];
    expect(() => parseNetDev(NETDEV_HEADER + netdevLine('lo', huge as number[]))).toThrow(/beyond 2\^53/);
    expect(() => parseNetDev(NETDEV_HEADER + netdevLine('lo', [...Array(15).fill(0), -1]))).toThrow(
      /unexpected character/,
    );
    expect(() => parseNetDev(NETDEV_HEADER + ': ' + Array(16).fill(0).join(' ') + '\n')).toThrow(
      /expected "NAME: counters"/,
    );
  });

  it('never crashes or invents numbers on arbitrary input (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string().map((s) => NETDEV_HEADER + s),
        ),
        (text) => {
          try {
            for (const { values } of parseNetDev(text)) {
              for (const value of values) expect(Number.isSafeInteger(value)).toBe(true);
            }
          } catch (error) {
            expect(error).toBeInstanceOf(ParseError);
          }
        },
      ),
    );
  });

  it.each(FIXTURES)('rejects truncations of %s, or returns the whole interfaces before the cut', (file) => {
    const text = fixture(file);
    const whole = parseNetDev(text);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), (cut) => {
        const truncated = text.slice(0, cut);
        let parsed: NetDevInterface[];
        try {
          parsed = parseNetDev(truncated);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
          return;
        }
        expect(truncated.endsWith('\n')).toBe(true);
        expect(parsed).toEqual(whole.slice(0, parsed.length));
        expect(parsed.length).toBeLessThan(whole.length);
      }),
    );
  });
});
