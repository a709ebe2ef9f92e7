/** The property every text parser of the kernel layer is fuzzed with. */
import fc from 'fast-check';
import { ParseError } from '../../src/errors';

/**
 * On arbitrary strings and on every truncation of `recorded`, `parse` either throws a ParseError or returns a
 * result, which `check` inspects: `isPrefix` is true when the input was a truncation of the recorded text (the
 * parser may then only return whole values that the recorded text also gives).
 */
export function assertParsesOrRejects<T>(
  recorded: string,
  parse: (text: string) => T,
  check: (parsed: T, isPrefix: boolean) => void,
): void {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.integer({ min: 0, max: recorded.length - 1 }).map((cut) => recorded.slice(0, cut)),
      ),
      (input) => {
        let parsed: T;
        try {
          parsed = parse(input);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
          return;
        }
        check(parsed, recorded.startsWith(input));
      },
    ),
  );
}

/**
 * For a parser that keeps state between parses to save work (names or headers seen before): on the inputs of
 * assertParsesOrRejects, `parseKept` (one state shared by every input, first given `recorded`) returns what
 * `parseAlone` returns, as `flat` renders it, or throws the same error message. The state may save work, never
 * change a result.
 */
export function assertKeptStateChangesNothing<T>(
  recorded: string,
  parseAlone: (text: string) => T,
  parseKept: (text: string) => T,
  flat: (parsed: T) => unknown,
): void {
  parseKept(recorded);
  const alone = (input: string) => {
    try {
      return flat(parseAlone(input));
    } catch (error) {
      return (error as Error).message;
    }
  };
  assertParsesOrRejects(
    recorded,
    (input) => {
      const expected = alone(input);
      try {
        const parsed = parseKept(input);
        expect(flat(parsed)).toEqual(expected);
        return parsed;
      } catch (error) {
        expect((error as Error).message).toBe(expected);
        throw error;
      }
    },
    () => undefined,
  );
}
