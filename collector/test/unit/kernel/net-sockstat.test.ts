import fc from 'fast-check';
import { ParseError } from '../../../src/errors';
import { parseSockstat, SOCKSTAT6_PROTOCOLS, SOCKSTAT_PROTOCOLS } from '../../../src/kernel/net-sockstat';
import { fixture } from '../../helpers/fixtures';

const V4 = fixture('linux/sockstat');
const V6 = fixture('linux/sockstat6');

describe('parseSockstat', () => {
  it('reads every protocol line of recorded sockstat and sockstat6', () => {
    const stat = parseSockstat(V4, 'net/sockstat', SOCKSTAT_PROTOCOLS);
    expect(Object.keys(stat)).toEqual(['sockets', 'TCP', 'UDP', 'UDPLITE', 'RAW', 'FRAG']);
    expect(stat['TCP']).toEqual(expect.objectContaining({ inuse: expect.any(Number), tw: expect.any(Number) }));
    expect(Object.keys(parseSockstat(V6, 'net/sockstat6', SOCKSTAT6_PROTOCOLS))).toContain('UDP6');
  });

  it('names the line it cannot read', () => {
    expect(() => parseSockstat('sockets: used 1\nUDP: inuse x\n', 'net/sockstat', [])).toThrow(
      new ParseError('net/sockstat', 'expected "PROTO: key value ...", got "UDP: inuse x"', 2),
    );
    expect(() => parseSockstat('UDP: inuse 1\nUDP: inuse 2\n', 'net/sockstat', [])).toThrow(/appears twice/);
  });

  it('requires the TCP and UDP inuse counts the kernel always prints, not UDPLITE (gone in 7.1)', () => {
    expect(() => parseSockstat('', 'net/sockstat6', SOCKSTAT6_PROTOCOLS)).toThrow(
      new ParseError(
        'net/sockstat6',
        'no TCP6, UDP6 inuse line (the kernel always prints them: the text is cut short or not this file)',
      ),
    );
    expect(() => parseSockstat('sockets: used 3\nTCP: inuse 1\n', 'net/sockstat', SOCKSTAT_PROTOCOLS)).toThrow(
      /no UDP inuse line/,
    );
    const withoutLite = V4.replace(/^UDPLITE:.*\n/m, '');
    expect(parseSockstat(withoutLite, 'net/sockstat', SOCKSTAT_PROTOCOLS)['UDP']).toBeDefined();
  });

  it('never crashes or invents numbers on arbitrary input (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          const stat = parseSockstat(text, 'f', []);
          for (const fields of Object.values(stat)) {
            for (const value of Object.values(fields)) expect(Number.isSafeInteger(value)).toBe(true);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
  });

  it('rejects a truncation that loses a required line, and keeps whole numbers otherwise', () => {
    const whole = parseSockstat(V4, 'net/sockstat', SOCKSTAT_PROTOCOLS);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: V4.length - 1 }), (cut) => {
        const truncated = V4.slice(0, cut);
        let parsed;
        try {
          parsed = parseSockstat(truncated, 'net/sockstat', SOCKSTAT_PROTOCOLS);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
          return;
        }
        expect(truncated.endsWith('\n')).toBe(true);
        for (const [protocol, fields] of Object.entries(parsed)) expect(fields).toEqual(whole[protocol]);
      }),
    );
  });
});
