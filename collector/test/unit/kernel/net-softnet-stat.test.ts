import { ParseError } from '../../../src/errors';
import { parseSoftnetStat } from '../../../src/kernel/net-softnet-stat';
import { fixture } from '../../helpers/fixtures';
import { assertParsesOrRejects } from '../../helpers/parser-fuzz';

/** Recorded from a 6.18 kernel (15 columns); CPU 1 had dropped 196 packets. */
const RECORDED = fixture('linux/drops/softnet_stat');
const OLD_FORMAT = '0000a1b2 00000003 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000004\n';

describe('parseSoftnetStat', () => {
  it('reads every CPU line of a recorded file by column', () => {
    const cpus = parseSoftnetStat(RECORDED);
    expect(cpus).toHaveLength(2);
    expect(cpus.map((cpu) => [cpu.processed, cpu.dropped, cpu.timeSqueeze, cpu.cpu])).toEqual([
      [0x113f8, 0, 0, 0],
      [0x1be2d, 0xc4, 5, 1],
    ]);
    expect(cpus[1]!.columns).toHaveLength(15);
  });

  it('reads the 10 columns of the oldest format, without the later ones', () => {
    const [cpu] = parseSoftnetStat(OLD_FORMAT);
    expect(cpu).toEqual(
      expect.objectContaining({ processed: 0xa1b2, dropped: 3, timeSqueeze: 1, receivedRps: 4, cpu: undefined }),
    );
    expect(cpu!.flowLimitCount).toBeUndefined();
  });

  it('rejects fewer than 10 columns, lines of different widths, and words that are not %08x', () => {
    expect(() => parseSoftnetStat('00000526 0000000a 00000000\n')).toThrow(
      new ParseError('net/softnet_stat', 'expected at least 10 columns, got 3', 1),
    );
    const line = RECORDED.split('\n')[0]!;
    expect(() => parseSoftnetStat(`${line}\n${OLD_FORMAT}`)).toThrow(/10 columns where the lines above have 15/);
    expect(() => parseSoftnetStat(OLD_FORMAT.replace('00000003', '3'))).toThrow(/column 2: expected 8 lowercase hex/);
    expect(() => parseSoftnetStat(OLD_FORMAT.replace('0000a1b2', '0000A1B2'))).toThrow(ParseError);
    expect(() => parseSoftnetStat(OLD_FORMAT.replace(' ', '  '))).toThrow(ParseError);
  });

  it('never crashes on arbitrary input or truncations of the recorded file (fuzz)', () => {
    const whole = parseSoftnetStat(RECORDED);
    assertParsesOrRejects(
      RECORDED,
      (input) => parseSoftnetStat(input),
      (parsed, isPrefix) => {
        if (isPrefix) expect(parsed).toEqual(whole.slice(0, parsed.length));
      },
    );
  });
});
