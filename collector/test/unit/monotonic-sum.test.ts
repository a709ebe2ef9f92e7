import fc from 'fast-check';
import { MonotonicSum } from '../../src/sources/linux/monotonic-sum';

describe('MonotonicSum', () => {
  it('equals the plain sum while members only grow', () => {
    const sum = new MonotonicSum(2);
    expect(
      sum.update(
        new Map([
          ['a', [5, 1]],
          ['b', [7, 2]],
        ]),
      ),
    ).toEqual([12, 3]);
    expect(
      sum.update(
        new Map([
          ['a', [6, 1]],
          ['b', [9, 4]],
        ]),
      ),
    ).toEqual([15, 5]);
  });

  it('counts a member whose counters went back as recreated: all its counters from zero', () => {
    const sum = new MonotonicSum(2);
    sum.update(new Map([['a', [100, 10]]]));
    expect(sum.update(new Map([['a', [5, 20]]]))).toEqual([105, 30]);
  });

  it('never decreases, and grows by exactly the growth of the members (fuzz)', () => {
    const vector = fc.tuple(fc.nat({ max: 1e9 }), fc.nat({ max: 1e9 }));
    const members = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), vector);
    fc.assert(
      fc.property(fc.array(members, { minLength: 1, maxLength: 20 }), (updates) => {
        const sum = new MonotonicSum(2);
        let previous = [0, 0];
        let before: Record<string, [number, number]> = {};
        for (const update of updates) {
          const totals = sum.update(new Map(Object.entries(update)));
          const growth = [0, 0];
          for (const [member, values] of Object.entries(update)) {
            const last = before[member];
            const recreated = last === undefined || values.some((value, i) => value < last[i]!);
            values.forEach((value, i) => (growth[i]! += recreated ? value : value - last[i]!));
          }
          totals.forEach((total, i) => {
            expect(total).toBeGreaterThanOrEqual(previous[i]!);
            expect(total - previous[i]!).toBe(growth[i]);
          });
          previous = [...totals];
          before = update;
        }
      }),
    );
  });
});
