/**
 * The one mechanism behind every total over a changing set of members (collector/src/monotonic-sum.ts): its contract
 * as properties over random sequences of members appearing, growing while seen or unseen, leaving, coming back,
 * restarting and wrapping, checked against a model of what the members really counted.
 */
import fc from 'fast-check';
import {
  addReading,
  DEFAULT_MAX_ABSENT_MEMBERS,
  MonotonicSum,
  MonotonicSumBySeries,
  type Incarnation,
} from '../../src/monotonic-sum';

const WIDTH = 3;
const KEYS = ['a', 'b', 'c', 'd', 'e'];

/** What happens to one member during one gathering. */
type Action =
  /** Seen this gathering, after growing by `growth` (created with `growth` if it did not exist). */
  | { readonly kind: 'seen'; readonly growth: number[] }
  /** Not seen (no default route, a failed query) while it grows by `growth` (created unseen if it did not exist). */
  | { readonly kind: 'unseen'; readonly growth: number[] }
  /**
   * A new incarnation under the same key (a port recreated with the same id), seen at once: its first counter is
   * `fraction` of what was last seen there (so lower: the restart shows), the others anything.
   */
  | { readonly kind: 'restart'; readonly fraction: number; readonly others: number[] }
  /** The incarnation no longer exists (a deleted veth, a port no longer listed). */
  | { readonly kind: 'gone' };

const vector = fc.array(fc.nat({ max: 1_000_000 }), { minLength: WIDTH, maxLength: WIDTH });
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('seen' as const), growth: vector }),
  fc.record({ kind: fc.constant('unseen' as const), growth: vector }),
  fc.record({
    kind: fc.constant('restart' as const),
    fraction: fc.double({ min: 0, max: 0.999, noNaN: true }),
    others: fc.array(fc.nat({ max: 1_000_000 }), { minLength: WIDTH - 1, maxLength: WIDTH - 1 }),
  }),
  fc.record({ kind: fc.constant('gone' as const) }),
);
const gatherings = fc.array(fc.array(action, { minLength: KEYS.length, maxLength: KEYS.length }), {
  minLength: 1,
  maxLength: 40,
});

interface ModelMember {
  /** The incarnation's key: the same key again after `gone` only when the caller tells existence. */
  readonly incarnation: string;
  /** What the member really counted since it was created. */
  values: number[];
  /** What the sum saw last, if it saw this incarnation. */
  lastSeen?: number[];
}

/**
 * Runs `sum` over the gatherings while a model tracks the true counters, and checks after each gathering that every
 * total grew by exactly what the model says the seen members counted: the whole value of a new incarnation, the
 * growth since last seen of a returning one.
 */
function checkAgainstModel(sum: MonotonicSum, steps: readonly (readonly Action[])[], tellExistence: boolean): void {
  const members = new Map<string, ModelMember>();
  let generation = 0;
  let previous: readonly number[] = [];
  const expected = new Array<number>(WIDTH).fill(0);
  for (const actions of steps) {
    const seen = new Map<Incarnation, number[]>();
    actions.forEach((act, index) => {
      const key = KEYS[index]!;
      let member = members.get(key);
      if (act.kind === 'gone') {
        members.delete(key);
        return;
      }
      if (act.kind === 'restart') {
        const last = member?.lastSeen;
        if (!member || !last || last[0] === 0) return;
        member.values = [Math.floor(act.fraction * last[0]!), ...act.others];
        member.lastSeen = undefined;
      } else {
        if (!member) {
          // Without existence, a gone incarnation's key is never reused (as an ifindex is not).
          const incarnation = tellExistence ? key : `${key}#${generation++}`;
          members.set(key, (member = { incarnation, values: new Array<number>(WIDTH).fill(0) }));
        }
        const current = member;
        current.values = current.values.map((value, i) => value + act.growth[i]!);
        if (act.kind === 'unseen') return;
      }
      const last = member.lastSeen;
      member.values.forEach((value, i) => (expected[i]! += last ? value - last[i]! : value));
      member.lastSeen = [...member.values];
      seen.set(member.incarnation, [...member.values]);
    });
    const existing = new Set([...members.values()].map((member) => member.incarnation));
    const totals = sum.update(seen, tellExistence ? existing : undefined);
    totals.forEach((total, i) => expect(total).toBeGreaterThanOrEqual(previous[i] ?? 0));
    expect(totals.length === 0 ? new Array<number>(WIDTH).fill(0) : totals).toEqual(expected);
    if (tellExistence) {
      // Memory: nothing is remembered whose incarnation no longer exists.
      expect(sum.rememberedMembers).toBeLessThanOrEqual(existing.size);
    }
    previous = totals;
  }
}

describe('MonotonicSum', () => {
  it('adds whole new incarnations and only the growth of returning ones, never decreasing (property)', () => {
    fc.assert(
      fc.property(gatherings, fc.boolean(), (steps, tellExistence) =>
        checkAgainstModel(new MonotonicSum(), steps, tellExistence),
      ),
      { numRuns: 300 },
    );
  });

  it('adds the real growth of 32-bit counters across their wrap, whatever the absences (property)', () => {
    const growth = fc.array(fc.nat({ max: 2 ** 31 }), { minLength: WIDTH, maxLength: WIDTH });
    // Per gathering and member: seen or not, after growing (while unseen, by less than 2^32 in all).
    const step = fc.array(fc.record({ seen: fc.boolean(), growth }), { minLength: 2, maxLength: 2 });
    const start = fc.array(fc.nat({ max: 2 ** 34 }), { minLength: WIDTH, maxLength: WIDTH });
    fc.assert(
      fc.property(fc.tuple(start, start), fc.array(step, { maxLength: 40 }), (starts, steps) => {
        const sum = new MonotonicSum({ counterBits: 32 });
        // True (unbounded) counters; the member shows their low 32 bits, as a DWORD does.
        const truth = starts.map((values) => [...values]);
        const grownSinceSeen = starts.map(() => new Array<number>(WIDTH).fill(0));
        const expected = truth[0]!.map((value, i) => (value % 2 ** 32) + (truth[1]![i]! % 2 ** 32));
        const show = (member: number) => truth[member]!.map((value) => value % 2 ** 32);
        let previous = sum.update(new Map([0, 1].map((member) => [member, show(member)])));
        expect(previous).toEqual(expected);
        for (const members of steps) {
          const seen = new Map<number, number[]>();
          members.forEach(({ seen: isSeen, growth: grown }, member) => {
            const sinceSeen = grownSinceSeen[member]!;
            // Keep the growth between two sightings below 2^32, the limit of what a 32-bit counter can tell.
            if (grown.some((g, i) => sinceSeen[i]! + g >= 2 ** 32)) return;
            truth[member] = truth[member]!.map((value, i) => value + grown[i]!);
            grown.forEach((g, i) => (sinceSeen[i]! += g));
            if (!isSeen) return;
            sinceSeen.forEach((g, i) => (expected[i]! += g));
            grownSinceSeen[member] = new Array<number>(WIDTH).fill(0);
            seen.set(member, show(member));
          });
          const totals = sum.update(seen);
          totals.forEach((total, i) => expect(total).toBeGreaterThanOrEqual(previous[i]!));
          expect(totals).toEqual(expected);
          previous = totals;
        }
      }),
    );
  });

  it('stays within its memory bound and never decreases when it must forget members it cannot check (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 4 }),
        fc.array(fc.array(fc.tuple(fc.nat({ max: 30 }), fc.nat({ max: 1000 })), { maxLength: 6 }), { maxLength: 40 }),
        (maxAbsentMembers, steps) => {
          const sum = new MonotonicSum({ maxAbsentMembers });
          let previous = 0;
          for (const step of steps) {
            const present = new Map(step.map(([member, value]) => [member, [value]]));
            const [total = 0] = sum.update(present);
            expect(total).toBeGreaterThanOrEqual(previous);
            expect(sum.rememberedMembers).toBeLessThanOrEqual(present.size + maxAbsentMembers);
            previous = total;
          }
        },
      ),
    );
  });

  it('remembers a member absent for any number of gatherings while it exists, and counts its growth once', () => {
    const sum = new MonotonicSum();
    sum.update(new Map([[7, [100]]]), new Set([7]));
    for (let i = 0; i < 50; i++) expect(sum.update(new Map(), new Set([7]))).toEqual([100]);
    expect(sum.update(new Map([[7, [130]]]), new Set([7]))).toEqual([130]);
  });

  it('forgets the least recently seen absent member first when over the cap', () => {
    const sum = new MonotonicSum({ maxAbsentMembers: 1 });
    sum.update(
      new Map([
        ['old', [10]],
        ['recent', [20]],
      ]),
    );
    sum.update(new Map([['recent', [25]]]));
    // Both absent now, one may stay: "recent" was seen last, so "old" is forgotten.
    expect(sum.update(new Map())).toEqual([35]);
    expect(sum.rememberedMembers).toBe(1);
    // "recent" adds its growth; "old", forgotten, counts whole again: the cost of the bound.
    expect(
      sum.update(
        new Map([
          ['recent', [26]],
          ['old', [10]],
        ]),
      ),
    ).toEqual([46]);
    expect(DEFAULT_MAX_ABSENT_MEMBERS).toBeGreaterThanOrEqual(250);
  });

  it('counts a member whose 64-bit counter went lower as a new incarnation: all its counters whole', () => {
    const sum = new MonotonicSum();
    sum.update(new Map([['port', [100, 10]]]));
    expect(sum.update(new Map([['port', [5, 20]]]))).toEqual([105, 30]);
  });

  it('keeps the last value of a column a member did not report, and adds a new column whole', () => {
    const sum = new MonotonicSum();
    sum.update(new Map([['m', [10, undefined]]]));
    expect(sum.update(new Map([['m', [undefined, 4]]]))).toEqual([10, 4]);
    expect(sum.update(new Map([['m', [12, 6]]]))).toEqual([12, 6]);
  });
});

describe('MonotonicSumBySeries', () => {
  it('totals named series as members report them, keeping series whose members left', () => {
    const sums = new MonotonicSumBySeries();
    const readings = new Map<string, Map<string, number>>();
    addReading(readings, 'port-a', 'syn', 10);
    addReading(readings, 'port-a', 'syn', 1);
    addReading(readings, 'port-b', 'acl', 3);
    expect([...sums.update(readings)]).toEqual([
      ['syn', 11],
      ['acl', 3],
    ]);
    const later = new Map([['port-a', new Map([['syn', 15]])]]);
    expect([...sums.update(later, new Set(['port-a']))]).toEqual([
      ['syn', 15],
      ['acl', 3],
    ]);
    expect(sums.rememberedMembers).toBe(1);
  });
});
