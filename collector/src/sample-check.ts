/**
 * The gatherer's run-time guard on what a source hands it: only samples of metrics the source declares, each with
 * exactly its metric's catalog labels. Types already forbid anything else inside this code base; this catches what
 * types cannot (a cast, a label built from a variable, a future source in plain JavaScript) before it reaches
 * Prometheus as a series nobody can query by its documented labels.
 */
import { METRICS, type MetricKey } from './catalog';
import type { Sample, SampleView, Samples } from './source';

export interface CheckedSamples {
  /** The samples that passed, per metric. */
  readonly accepted: Samples;
  /** One line per rejected metric (undeclared, or samples with wrong labels), for the log; stable between scrapes. */
  readonly rejections: readonly string[];
}

/** Whether `labels` has exactly the label names `expected`, each a string. Allocates nothing (hot path). */
function hasExactLabels(labels: SampleView['labels'], expected: readonly string[]): boolean {
  let count = 0;
  for (const name in labels) {
    if (!expected.includes(name) || typeof labels[name] !== 'string') return false;
    count += 1;
  }
  return count === expected.length;
}

/**
 * Splits a source's output into accepted samples and rejection reasons. `declared` is the source's `metrics` list.
 * Pure: the caller logs the rejections.
 */
export function checkSamples(sourceName: string, declared: readonly MetricKey[], produced: Samples): CheckedSamples {
  const accepted: Record<string, Sample[]> = {};
  const rejections: string[] = [];
  // Indexed over the keys: Object.entries and for-of make an array per metric and an iterator result each.
  const keys = Object.keys(produced) as MetricKey[];
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const list = produced[key] as SampleView[] | undefined;
    if (list === undefined) continue;
    if (!declared.includes(key)) {
      rejections.push(`${sourceName} produced samples of ${METRICS[key].name}, a metric it does not declare: dropped`);
      continue;
    }
    const expected = METRICS[key].labels as readonly string[];
    // The list itself when every sample passes (the usual case: no copy per metric per gathering).
    let firstBad = 0;
    while (firstBad < list.length && hasExactLabels(list[firstBad]!.labels, expected)) firstBad++;
    const good = firstBad === list.length ? list : list.filter((sample) => hasExactLabels(sample.labels, expected));
    if (good !== list) {
      const bad = list[firstBad]!;
      rejections.push(
        `${sourceName} produced samples of ${METRICS[key].name} whose labels ` +
          `${JSON.stringify(Object.keys(bad.labels))} are not the catalog's ${JSON.stringify(expected)}: dropped`,
      );
    }
    accepted[key] = good as Sample[];
  }
  return { accepted: accepted as Samples, rejections };
}
