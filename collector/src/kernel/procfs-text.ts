/** Helpers shared by the procfs and sysfs text parsers of the kernel layer. */
import { ParseError } from '../errors';

/**
 * The lines of a procfs file. The kernel ends every such file with a newline, so text that does not is truncated
 * (a short read, a cut copy): rejecting it is what keeps a half-read number from being exported as a smaller one.
 */
export function procfsLines(text: string, file: string): string[] {
  requireFinalNewline(text, file);
  const lines = text.split('\n');
  lines.pop();
  return lines;
}

/** Throws unless `text` is empty or ends with a newline, as every procfs file does (see procfsLines). */
export function requireFinalNewline(text: string, file: string): void {
  if (text.length > 0 && !text.endsWith('\n')) {
    throw new ParseError(file, 'does not end with a newline: the text is truncated');
  }
}

/** Decimal digits only. Constants here, not literals in the functions: each evaluation of a literal is a new object. */
const DIGITS = /^\d+$/;
const HEX_WORD = /^[0-9a-f]{8}$/;

/** A non-negative integer field of a procfs file; anything else is a ParseError naming the field. */
export function parseCount(word: string | undefined, file: string, what: string, lineNumber?: number): number {
  if (word === undefined || !DIGITS.test(word)) {
    throw new ParseError(
      file,
      `${what}: expected a non-negative integer, got ${JSON.stringify(word ?? '')}`,
      lineNumber,
    );
  }
  const value = Number(word);
  if (!Number.isSafeInteger(value)) {
    throw new ParseError(file, `${what}: ${word} is beyond 2^53 and cannot be exported exactly`, lineNumber);
  }
  return value;
}

/**
 * A `%08x` field (softnet_stat, stat/nf_conntrack): exactly 8 lowercase hex digits, a u32. Any other width or case
 * is not what the kernel prints there, so it is an error rather than a number.
 */
export function parseHexWord(word: string | undefined, file: string, what: string, lineNumber: number): number {
  if (word === undefined || !HEX_WORD.test(word)) {
    throw new ParseError(
      file,
      `${what}: expected 8 lowercase hex digits, got ${JSON.stringify(word ?? '')}`,
      lineNumber,
    );
  }
  return Number.parseInt(word, 16);
}

/**
 * Throws a ParseError naming every one of `expected` that `present` says is absent. For the parts of a kernel file
 * the kernel always prints: their absence means the read was cut at a line boundary (or the file is not what its
 * name says), and a source going on without them would drop counters silently.
 */
export function requireParts(
  file: string,
  kind: string,
  expected: readonly string[],
  present: (name: string) => boolean,
): void {
  const missing = expected.filter((name) => !present(name));
  if (missing.length > 0) {
    throw new ParseError(
      file,
      `no ${missing.join(', ')} ${kind} (the kernel always prints them: the text is cut short or not this file)`,
    );
  }
}
