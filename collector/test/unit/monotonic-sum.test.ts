import fc from 'fast-check';
import { MonotonicSum } from '../../src/sources/linux/monotonic-sum';

describe('MonotonicSum', () => {
  it('equals the plain sum while members only grow', () => {
    const sum = new MonotonicSum();
    expect(
      sum.update(
        new Map([
          ['a', 5],
          ['b', 7],
        ]),
      ),
    ).toBe(12);
    expect(
      sum.update(
        new Map([
          ['a', 6],
          ['b', 9],
        ]),
      ),
    ).toBe(15);
  });

  it('never decreases, and grows by exactly the growth of the members present in both updates (fuzz)', () => {
    const members = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.nat({ max: 1e9 }));
    fc.assert(
      fc.property(fc.array(members, { minLength: 1, maxLength: 20 }), (updates) => {
        const sum = new MonotonicSum();
        let previous = 0;
        let before: Record<string, number> = {};
        for (const update of updates) {
          const total = sum.update(new Map(Object.entries(update)));
          expect(total).toBeGreaterThanOrEqual(previous);
          let growth = 0;
          for (const [member, value] of Object.entries(update)) {
            const last = before[member];
            growth += last === undefined || value < last ? value : value - last;
          }
          expect(total - previous).toBe(growth);
          previous = total;
          before = update;
        }
      }),
    );
  });
});
