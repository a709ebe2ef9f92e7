import fc from 'fast-check';
import { ParseError } from '../../src/errors';
import { parseSockstat, udpActiveSockets } from '../../src/sources/linux/sockstat';
import { fixture } from '../helpers/fixtures';

describe('parseSockstat', () => {
  it('reads every protocol line of a recorded sockstat', () => {
    const stat = parseSockstat(fixture('linux/sockstat'));
    expect(Object.keys(stat)).toEqual(['sockets', 'TCP', 'UDP', 'UDPLITE', 'RAW', 'FRAG']);
    expect(stat['TCP']).toEqual(expect.objectContaining({ inuse: expect.any(Number), tw: expect.any(Number) }));
  });

  it('sums UDP over IPv4 and IPv6', () => {
    const v4 = parseSockstat('sockets: used 10\nUDP: inuse 3 mem 1\n');
    const v6 = parseSockstat('UDP6: inuse 4\n');
    expect(udpActiveSockets(v4, v6)).toBe(7);
    expect(udpActiveSockets(v4, undefined)).toBe(3);
  });

  it('names the line it cannot read', () => {
    expect(() => parseSockstat('sockets: used 1\nUDP: inuse x\n', 'net/sockstat')).toThrow(
      new ParseError('net/sockstat', 'expected "PROTO: key value ...", got "UDP: inuse x"', 2),
    );
    expect(() => udpActiveSockets(parseSockstat('TCP: inuse 1\n'), undefined)).toThrow(ParseError);
  });

  it('never crashes or invents numbers on arbitrary input (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          const stat = parseSockstat(text);
          for (const fields of Object.values(stat)) {
            for (const value of Object.values(fields)) expect(Number.isSafeInteger(value)).toBe(true);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
  });

  it('rejects truncated recorded input with a ParseError, never a wrong number', () => {
    const text = fixture('linux/sockstat');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: text.length - 1 }), (cut) => {
        const truncated = text.slice(0, cut);
        if (truncated.endsWith('\n')) {
          // Cut at a line boundary: fewer protocols, every number whole.
          expect(Object.keys(parseSockstat(truncated)).length).toBeLessThan(Object.keys(parseSockstat(text)).length);
        } else {
          expect(() => parseSockstat(truncated)).toThrow(ParseError);
        }
      }),
    );
  });
});
