/**
 * JSON printed by Windows tools (PowerShell's ConvertTo-Json, decoded by command.ts), read the way those tools
 * really print it: possibly with a UTF-8 byte order mark, with CRLF line ends, nothing at all for an empty result,
 * and a single object where a list has one element.
 */
import { ParseError } from '../../errors';

/** Parses tool output; `undefined` for empty output (PowerShell prints nothing for an empty result). */
export function parseToolJson(text: string, file: string): unknown {
  const body = text.replace(/^\uFEFF/, '').trim();
  if (body === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw new ParseError(file, `not JSON: ${(error as Error).message}`);
  }
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A list that PowerShell may have printed as one object (one element) or nothing (no element). */
export function asObjectList(value: unknown, file: string, what: string): JsonObject[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, index) => {
    if (!isObject(item)) throw new ParseError(file, `${what}[${index}] is not an object`);
    return item;
  });
}

/**
 * A counter value: a non-negative whole number (JSON number or decimal string, as PowerShell prints UInt64).
 * `what` names the value for the error, and is only built when there is one (thousands of values per gathering).
 */
export function counterValue(value: unknown, file: string, what: () => string): number {
  const number =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < 0) {
    throw new ParseError(file, `${what()}: expected a non-negative whole number, got ${JSON.stringify(value)}`);
  }
  return number;
}
