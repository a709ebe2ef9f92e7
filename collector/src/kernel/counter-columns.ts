/**
 * Counters by name over a fixed list of names: the shape of the kernel's protocol counter files (/proc/net/snmp,
 * netstat, snmp6), whose names stay the same for the life of a boot while the values change at every read. The names
 * and their index are made once (CounterNames) and shared by every later parse; a parse only fills an array of
 * values. Built for a collector without an optimising compiler (--no-opt): a Map of ~100 names per file per gathering
 * was most of the garbage of those parsers (measured for issue 17).
 */

/** Counter names in file order, with the column of each. Never changed once made. */
export interface CounterNames {
  readonly names: readonly string[];
  readonly columns: ReadonlyMap<string, number>;
}

/** The CounterNames of `names`, which must hold no name twice (the parsers check that first). */
export function counterNames(names: readonly string[]): CounterNames {
  const columns = new Map<string, number>();
  for (let column = 0; column < names.length; column++) columns.set(names[column]!, column);
  return { names, columns };
}

/**
 * A read-only Map of counter name to value, in file order: `values[i]` is the value of `names.names[i]`. Iteration
 * (forEach, entries, keys, values) goes by index; only the iterator forms make iterator objects.
 */
export class CounterValues implements ReadonlyMap<string, number> {
  constructor(
    private readonly counters: CounterNames,
    private readonly counts: readonly number[],
  ) {}

  get size(): number {
    return this.counts.length;
  }

  get(name: string): number | undefined {
    const column = this.counters.columns.get(name);
    return column === undefined ? undefined : this.counts[column];
  }

  has(name: string): boolean {
    return this.counters.columns.has(name);
  }

  forEach(callback: (value: number, name: string, map: ReadonlyMap<string, number>) => void, thisArg?: unknown): void {
    const names = this.counters.names;
    for (let i = 0; i < names.length; i++) callback.call(thisArg, this.counts[i]!, names[i]!, this);
  }

  *entries(): MapIterator<[string, number]> {
    const names = this.counters.names;
    for (let i = 0; i < names.length; i++) yield [names[i]!, this.counts[i]!];
  }

  *keys(): MapIterator<string> {
    yield* this.counters.names;
  }

  *values(): MapIterator<number> {
    yield* this.counts;
  }

  [Symbol.iterator](): MapIterator<[string, number]> {
    return this.entries();
  }
}
