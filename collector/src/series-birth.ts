/**
 * Counter series born with a value: held at 0 first, so Prometheus sees their first increase.
 *
 * Prometheus' `rate()` and `increase()` measure growth BETWEEN samples of a series. A series whose first sample is
 * already 300 (a drop reason seen for the first time: OTHERHOST after 300 frames to a foreign MAC) has no earlier
 * sample, so those 300 never show as growth: the Drops dashboard's top reasons and the drop alerts miss the burst.
 * (Prometheus 2.42, Debian's, has no created-timestamp zero ingestion; OpenMetrics `_created` does not help either.)
 *
 * The rule, per source and per strategy of a source (`kappie_source_up{source}`: the drops source's `drop_reasons`
 * and `drop_counters` each have their own):
 *  - the label sets of a strategy's FIRST successful gathering are its baseline and are exposed as they are: their
 *    values are kernel totals whose start nobody watched (interface bytes since boot, Udp NoPorts), and Prometheus
 *    takes a series' first sample as its baseline;
 *  - a counter label set that appears in a LATER gathering with a value above 0 is exposed at 0 for `holdSeconds`,
 *    then with its value. Its whole value is growth since the previous gathering: a reason counted for the first time,
 *    an interface created since, an ICMP type counted for the first time (IcmpMsg rows appear then);
 *  - a label set that appears at 0 is known at once (nothing to hold); a known one that goes absent and returns is
 *    exposed as it is (it may be the same total coming back after a failed read: holding it at 0 would invent growth).
 *
 * The hold is measured in gathering time, not in scrapes, so every scraper whose scrape interval is at most
 * `holdSeconds` sees at least one 0: several Prometheus replicas, and the scrape reuse window (a scrape answered from
 * a reused gathering gets a gathering at least as new as the one that first saw the series, so it is inside the
 * hold too). Gauges are never held. No series is added: the budget of series per node is what the sources export.
 *
 * Memory: per strategy, the label sets seen (at most `maxRemembered`, then the least recently seen absent ones are
 * forgotten; a forgotten one that returns is held again) and the ones being held.
 */
import { METRICS, type MetricKey } from './catalog';
import type { Sample, Samples } from './source';

/** Default of --new-series-hold: above Prometheus' default scrape interval (1 min) with room for jitter. */
export const DEFAULT_NEW_SERIES_HOLD_SECONDS = 90;
/** Label sets remembered per strategy before the least recently seen absent ones are forgotten. */
export const DEFAULT_MAX_REMEMBERED = 20_000;

export interface SeriesBirthOptions {
  /** Seconds a counter series born above 0 is exposed at 0 before its value (--new-series-hold); 0 turns holding off. */
  readonly holdSeconds: number;
  /** Label sets remembered per strategy (default DEFAULT_MAX_REMEMBERED). */
  readonly maxRemembered?: number;
}

export interface SeriesBirths {
  /**
   * The samples of one successful gathering of `strategy` (the source's status name) at `nowMs` (ms since epoch), with
   * its counter series born above 0 since the strategy's first gathering held at 0 while younger than the hold. Pure
   * apart from this object's own memory; the input is not modified.
   */
  admit(strategy: string, samples: Samples, nowMs: number): Samples;
  /** Series held at 0 in the last gathering of `strategy` (for notes and tests). */
  held(strategy: string): number;
}

interface StrategyMemory {
  /** Known label sets -> when last seen (ms), in first-seen order. */
  readonly known: Map<string, number>;
  /** Label sets being held at 0 -> when first seen (ms). */
  readonly born: Map<string, number>;
  heldLastTime: number;
  /** The series keys built so far (KeyTrie), and how many (its leaves). */
  readonly keys: KeyTrie;
  interned: number;
}

/**
 * The series keys of a strategy built so far, by metric key then label values in the catalog's label order: the
 * key of a series seen before is found by Map lookups on the strings its sample already holds instead of being built
 * again (building it made a string and its flattened copy per counter sample per gathering: measured for issue 17).
 * Inner nodes are Maps, the leaves the keys. Pruned to the keys still known or held (pruneKeys).
 */
type KeyTrie = Map<string, KeyTrie | string>;

/**
 * A series' identity within a strategy: the metric key and its label values in the catalog's label order. The
 * gatherer admits only samples with exactly their metric's catalog labels (sample-check.ts), so the values alone
 * identify the series. Built by concatenation: this runs for every counter sample of every gathering, and sorting
 * and joining arrays of names there was a sixth of the collector's garbage per scrape (bench/RESULTS.md).
 */
function seriesKey(key: MetricKey, labels: Readonly<Record<string, string>>): string {
  const names = METRICS[key].labels as readonly string[];
  let identity: string = key;
  // An index loop: without TurboFan (the bin runs --no-opt) for...of allocates an iterator result per element.
  for (let i = 0; i < names.length; i++) identity += `\u0000${labels[names[i]!]}`;
  return identity;
}

/** seriesKey(metric, labels), from `memory.keys` when it was built before (and added there when not). */
function internedSeriesKey(
  memory: StrategyMemory,
  metric: MetricKey,
  labels: Readonly<Record<string, string>>,
): string {
  const names = METRICS[metric].labels as readonly string[];
  let node = memory.keys;
  let part: string = metric;
  for (let i = 0; i < names.length; i++) {
    let child = node.get(part) as KeyTrie | undefined;
    if (child === undefined) {
      child = new Map();
      node.set(part, child);
    }
    node = child;
    part = labels[names[i]!]!;
  }
  let key = node.get(part) as string | undefined;
  if (key === undefined) {
    key = seriesKey(metric, labels);
    node.set(part, key);
    memory.interned += 1;
  }
  return key;
}

/** Removes from `node` the keys `keep` refuses, and the Maps left empty; the number of keys left. */
function pruneKeys(node: KeyTrie, keep: (key: string) => boolean): number {
  let left = 0;
  // Deleting the entry being visited is allowed during Map.forEach (it is not visited again).
  node.forEach((child, part) => {
    if (typeof child === 'string') {
      if (keep(child)) left += 1;
      else node.delete(part);
      return;
    }
    const below = pruneKeys(child, keep);
    if (below === 0) node.delete(part);
    left += below;
  });
  return left;
}

export function createSeriesBirths(options: SeriesBirthOptions): SeriesBirths {
  const holdMs = options.holdSeconds * 1000;
  const maxRemembered = options.maxRemembered ?? DEFAULT_MAX_REMEMBERED;
  const memories = new Map<string, StrategyMemory>();

  /**
   * Beyond the cap, forgets the least recently seen of the label sets absent from this gathering, down to 90% of the
   * cap: `known` is not kept in recency order (moving every seen key to the end cost a Map delete per sample per
   * gathering), so this sorts by last sight, and the 10% slack keeps that sort from running at every gathering.
   */
  function forgetBeyondCap(memory: StrategyMemory, nowMs: number): void {
    if (memory.known.size <= maxRemembered) return;
    const absent = [...memory.known].filter(([, lastSeen]) => lastSeen !== nowMs);
    absent.sort((a, b) => a[1] - b[1]); // stable: ties stay in first-seen order
    const target = maxRemembered - Math.floor(maxRemembered / 10);
    for (let i = 0; i < absent.length && memory.known.size > target; i++) memory.known.delete(absent[i]![0]);
  }

  /**
   * Drops the built keys of series neither known nor held (forgotten beyond the cap, or gone while held) once they
   * are a tenth of the cap more than those: the keys cost memory like `known` does, and must not grow without it.
   */
  function forgetStaleKeys(memory: StrategyMemory): void {
    const { known, born } = memory;
    if (memory.interned <= known.size + born.size + Math.ceil(maxRemembered / 10)) return;
    memory.interned = pruneKeys(memory.keys, (key) => known.has(key) || born.has(key));
  }

  return {
    admit(strategy, samples, nowMs) {
      let memory = memories.get(strategy);
      const baseline = memory === undefined;
      memory ??= { known: new Map(), born: new Map(), heldLastTime: 0, keys: new Map(), interned: 0 };
      memories.set(strategy, memory);
      const { known, born } = memory;
      const seenBorn = new Set<string>();
      let held = 0;
      const out: Samples = {};
      // Index loops and a copy of a list only when one of its samples is held: this runs for every counter sample of
      // every gathering, without TurboFan (see seriesKey).
      const metrics = Object.keys(samples) as MetricKey[];
      for (let m = 0; m < metrics.length; m++) {
        const metric = metrics[m]!;
        const list = samples[metric]!;
        let admitted: Sample[] = list;
        if (METRICS[metric].type === 'counter' && holdMs !== 0) {
          for (let i = 0; i < list.length; i++) {
            const sample = list[i]!;
            const key = internedSeriesKey(memory, metric, sample.labels);
            if (baseline || sample.value === 0 || known.has(key)) {
              known.set(key, nowMs);
              continue;
            }
            const firstSeen = born.get(key) ?? nowMs;
            if (nowMs - firstSeen >= holdMs) {
              born.delete(key);
              known.set(key, nowMs);
              continue;
            }
            born.set(key, firstSeen);
            seenBorn.add(key);
            held += 1;
            if (admitted === list) admitted = list.slice();
            admitted[i] = { ...sample, value: 0 } as Sample;
          }
        }
        (out as Record<string, Sample[]>)[metric] = admitted;
      }
      // A held series that went absent starts its hold again when it returns.
      if (born.size > seenBorn.size) for (const key of born.keys()) if (!seenBorn.has(key)) born.delete(key);
      memory.heldLastTime = held;
      forgetBeyondCap(memory, nowMs);
      forgetStaleKeys(memory);
      return out;
    },
    held: (strategy) => memories.get(strategy)?.heldLastTime ?? 0,
  };
}
