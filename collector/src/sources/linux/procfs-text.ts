/** Helpers shared by the procfs text parsers. */
import { ParseError } from '../../errors';

/**
 * The lines of a procfs file. The kernel ends every such file with a newline, so text that does not is truncated
 * (a short read, a cut copy): rejecting it is what keeps a half-read number from being exported as a smaller one.
 */
export function procfsLines(text: string, file: string): string[] {
  if (text.length > 0 && !text.endsWith('\n')) {
    throw new ParseError(file, 'does not end with a newline: the text is truncated');
  }
  const lines = text.split('\n');
  lines.pop();
  return lines;
}

/** A non-negative integer field of a procfs file; anything else is a ParseError naming the field. */
export function parseCount(word: string | undefined, file: string, what: string, lineNumber?: number): number {
  if (word === undefined || !/^\d+$/.test(word)) {
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
