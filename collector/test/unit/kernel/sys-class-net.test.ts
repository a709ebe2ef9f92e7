import { ParseError } from '../../../src/errors';
import { parseSysfsCounter } from '../../../src/kernel/sys-class-net';

describe('parseSysfsCounter', () => {
  it('reads one number and rejects anything else', () => {
    expect(parseSysfsCounter('42\n', 'f')).toBe(42);
    for (const bad of ['42', '', '\n', '-1\n', '1\n2\n', 'x\n'])
      expect(() => parseSysfsCounter(bad, 'f')).toThrow(ParseError);
  });
});
