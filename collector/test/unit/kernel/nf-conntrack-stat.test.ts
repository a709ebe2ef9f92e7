import { ParseError } from '../../../src/errors';
import { parseConntrackStat } from '../../../src/kernel/nf-conntrack-stat';
import { fixture } from '../../helpers/fixtures';
import { assertParsesOrRejects } from '../../helpers/parser-fuzz';

/** Recorded from a 6.18 kernel: two spaces after `entries` in the header, one line per possible CPU. */
const RECORDED = fixture('linux/drops/nf_conntrack');
const OLD_HEADER =
  'entries  searched found new invalid ignore delete delete_list insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n';

describe('parseConntrackStat', () => {
  it('reads the columns by the names of the header, per CPU', () => {
    const stat = parseConntrackStat(RECORDED);
    expect(stat.columns.slice(0, 3)).toEqual(['entries', 'clashres', 'found']);
    expect(stat.cpus).toHaveLength(2);
    expect(stat.cpus[0]!['drop']).toBe(0);
    const row = (values: Record<string, number>) =>
      stat.columns.map((name) => (values[name] ?? 0).toString(16).padStart(8, '0')).join(' ');
    const text = `${RECORDED.split('\n')[0]}\n${row({ entries: 7, drop: 0x10, insert_failed: 2 })}\n`;
    expect(parseConntrackStat(text).cpus[0]).toEqual(
      expect.objectContaining({ entries: 7, drop: 16, insert_failed: 2 }),
    );
  });

  it('reads older kernels whose columns differ (searched, delete_list)', () => {
    const zeros = Array(17).fill('00000000').join(' ');
    expect(parseConntrackStat(`${OLD_HEADER}${zeros}\n`).cpus[0]!['searched']).toBe(0);
  });

  it('rejects a header without drop or insert_failed, rows of another width, words not %08x', () => {
    expect(() => parseConntrackStat('entries found\n00000000 00000000\n')).toThrow(
      /no insert_failed, drop, early_drop column/,
    );
    expect(() => parseConntrackStat('')).toThrow(ParseError);
    const [header, first] = RECORDED.split('\n');
    expect(() => parseConntrackStat(`${header}\n${first} 00000000\n`)).toThrow(/18 values under 17 column names/);
    expect(() => parseConntrackStat(`${header}\n${first!.replace('00000000', '0')}\n`)).toThrow(
      /entries: expected 8 lowercase hex digits/,
    );
    expect(() => parseConntrackStat(`${header} drop\n`)).toThrow(/column drop appears twice/);
  });

  it('never crashes on arbitrary input or truncations of the recorded file (fuzz)', () => {
    const whole = parseConntrackStat(RECORDED);
    assertParsesOrRejects(
      RECORDED,
      (input) => parseConntrackStat(input),
      (parsed, isPrefix) => {
        if (isPrefix) expect(parsed.cpus).toEqual(whole.cpus.slice(0, parsed.cpus.length));
      },
    );
  });
});
