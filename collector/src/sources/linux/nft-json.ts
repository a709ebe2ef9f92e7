/**
 * Pure parser of `nft -j list counters table inet kappie` (libnftables JSON, schema version 1): the named counters
 * of one table. Anything unexpected is a ParseError; a counter is never guessed or defaulted to zero.
 */
import { ParseError } from '../../errors';

export interface NftCounter {
  readonly packets: number;
  readonly bytes: number;
}

const SOURCE = 'nft -j list counters';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ParseError(SOURCE, `${what}: expected a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The counters of table `family name`, by counter name. Counters of other tables are ignored. */
export function parseNftCounters(text: string, family: string, table: string): Map<string, NftCounter> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ParseError(SOURCE, `not JSON (${(error as Error).message})`);
  }
  if (!isRecord(document) || !Array.isArray(document['nftables'])) {
    throw new ParseError(SOURCE, 'expected an object with an "nftables" array');
  }
  const counters = new Map<string, NftCounter>();
  document['nftables'].forEach((entry: unknown, index) => {
    if (!isRecord(entry)) throw new ParseError(SOURCE, `nftables[${index}] is not an object`);
    const counter = entry['counter'];
    if (counter === undefined) return; // metainfo and any other object kind
    if (!isRecord(counter)) throw new ParseError(SOURCE, `nftables[${index}].counter is not an object`);
    if (counter['family'] !== family || counter['table'] !== table) return;
    const name = counter['name'];
    if (typeof name !== 'string' || name === '') {
      throw new ParseError(SOURCE, `nftables[${index}].counter has no name`);
    }
    if (counters.has(name)) throw new ParseError(SOURCE, `counter ${name} appears twice`);
    counters.set(name, {
      packets: count(counter['packets'], `counter ${name} packets`),
      bytes: count(counter['bytes'], `counter ${name} bytes`),
    });
  });
  return counters;
}
