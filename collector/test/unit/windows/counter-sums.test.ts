import fc from 'fast-check';
import { addReading, FORGET_AFTER_GATHERINGS, MonotonicSums } from '../../../src/sources/windows/counter-sums';

function readings(values: Record<string, Record<string, number>>): Map<string, Map<string, number>> {
  const result = new Map<string, Map<string, number>>();
  for (const [series, members] of Object.entries(values)) {
    for (const [member, value] of Object.entries(members)) addReading(result, series, member, value);
  }
  return result;
}

describe('MonotonicSums', () => {
  it('is the plain sum over members while members only grow', () => {
    const sums = new MonotonicSums('restart');
    expect(sums.update(readings({ syn: { a: 10, b: 5 } })).get('syn')).toBe(15);
    expect(sums.update(readings({ syn: { a: 12, b: 9 } })).get('syn')).toBe(21);
  });

  it('keeps what a vanished member counted, and counts a new member from zero', () => {
    const sums = new MonotonicSums('restart');
    sums.update(readings({ syn: { a: 10, b: 5 } }));
    // b's pod is deleted, c is a new pod with 3 packets.
    expect(sums.update(readings({ syn: { a: 11, c: 3 } })).get('syn')).toBe(10 + 5 + 1 + 3);
  });

  it('adds only the increase of a member that missed a gathering and came back', () => {
    const sums = new MonotonicSums('restart');
    sums.update(readings({ syn: { a: 10, b: 5 } }));
    sums.update(readings({ syn: { a: 10 } }));
    expect(sums.update(readings({ syn: { a: 10, b: 7 } })).get('syn')).toBe(17);
  });

  it('forgets members gone for long, so memory stays bounded', () => {
    const sums = new MonotonicSums('restart');
    sums.update(readings({ syn: { b: 5 } }));
    for (let i = 0; i <= FORGET_AFTER_GATHERINGS; i++) sums.update(readings({ syn: {} }));
    // Forgotten: a port with the same name would count as new (port names are GUIDs and are not reused).
    expect(sums.update(readings({ syn: { b: 2 } })).get('syn')).toBe(7);
  });

  it('reads a decrease of a 32-bit counter as a wrap at 2^32', () => {
    const sums = new MonotonicSums('wrap32');
    sums.update(readings({ InSegs: { ipv4: 2 ** 32 - 10 } }));
    expect(sums.update(readings({ InSegs: { ipv4: 5 } })).get('InSegs')).toBe(2 ** 32 + 5);
  });

  it('reads a decrease of a per-port counter as a recreated port', () => {
    const sums = new MonotonicSums('restart');
    sums.update(readings({ syn: { a: 100 } }));
    expect(sums.update(readings({ syn: { a: 4 } })).get('syn')).toBe(104);
  });

  it('keeps series whose members all went away', () => {
    const sums = new MonotonicSums('restart');
    sums.update(readings({ acl: { a: 3 } }));
    expect(sums.update(readings({})).get('acl')).toBe(3);
  });

  it('never decreases, whatever the readings (fuzz)', () => {
    const gathering = fc.dictionary(
      fc.constantFrom('s1', 's2'),
      fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.nat(2 ** 32 - 1)),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(gathering, { maxLength: 30 }), (wrap, gatherings) => {
        const sums = new MonotonicSums(wrap ? 'wrap32' : 'restart');
        const last = new Map<string, number>();
        for (const values of gatherings) {
          for (const [series, total] of sums.update(readings(values))) {
            expect(total).toBeGreaterThanOrEqual(last.get(series) ?? 0);
            last.set(series, total);
          }
        }
      }),
    );
  });
});
