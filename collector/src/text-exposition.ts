/**
 * A writer of the Prometheus text exposition format 0.0.4 (what `kappie serve` answers at /metrics). Pure: families
 * and samples in, text pieces out. The parser of the same format, for `kappie snapshot`, is prometheus-text.ts.
 *
 * The format (Prometheus "Exposition formats", text-based format, https://prometheus.io/docs/instrumenting/
 * exposition_formats/): lines separated by `\n`, the last one ended by `\n` too; a family is `# HELP name text`,
 * `# TYPE name type`, then one line per series, `name{label="value",...} value`. In HELP text a backslash is written
 * `\\` and a line feed `\n`; in a label value also a double quote is written `\"`. The value is a Go float
 * (strconv.ParseFloat): `NaN`, `+Inf` and `-Inf` besides decimal and exponent notation.
 *
 * The text is the one prom-client 15 wrote for the same families, byte for byte (its lib/registry.js
 * getMetricsAsString and lib/util.js getValueAsString, which Kappie used before), so scrapers and recorded goldens see
 * no change: a series' own labels in the order of its label object, then the node labels; a family without series
 * left out; NaN written `Nan` (Go's ParseFloat, and so Prometheus, reads it case-insensitively); other numbers as
 * JavaScript writes them (`1.5`, `1e+21`, `5e-7`; negative zero as `0`).
 *
 * Written for a collector that runs without an optimising compiler (--no-opt): one array of pieces per scrape, made
 * at its size and joined once, index loops, no string or array made per label or series beyond the escaped values
 * that need escaping and the value's digits.
 */
import type { SampleView } from './source';

/**
 * The fixed text of a family, made once when the exposition is built: its header, and the pieces of its series
 * lines that do not depend on a series' values, so a series line is a handful of pieces: the start of each label
 * with the value after it, then the node labels and the value.
 */
export interface FamilyText {
  /** `# HELP name help\n# TYPE name type\n`. */
  readonly header: string;
  /** The family name as written (escaped as prom-client did; catalog names never need it). */
  readonly name: string;
  /** Per label name: `name{label="`, the start of a series line at its first label. */
  readonly firstLabel: ReadonlyMap<string, string>;
  /** Per label name: `",label="`, ending the previous label's value and starting this label. */
  readonly nextLabel: ReadonlyMap<string, string>;
  /** After a series' own labels: `",node_name="n",cluster="c"} ` (or `"} ` without node labels). */
  readonly afterLabels: string;
  /** A series without labels of its own: `name{node_name="n",cluster="c"} ` (or `name ` without node labels). */
  readonly withoutLabels: string;
}

/** What needs escaping in a label value: backslash, line feed, double quote. Not global: test() keeps no state. */
const LABEL_VALUE_SPECIAL = /[\\\n"]/;
/** What needs escaping in HELP text (and, as prom-client did, in a family name): backslash, line feed. */
const HELP_SPECIAL = /[\\\n]/;

/** HELP text (and a family name) escaped: `\` as `\\`, line feed as `\n`. */
export function escapeHelp(text: string): string {
  if (!HELP_SPECIAL.test(text)) return text;
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

/** A label value escaped: `\` as `\\`, line feed as `\n`, `"` as `\"`. Returns the value itself when none occurs. */
export function escapeLabelValue(value: string): string {
  if (!LABEL_VALUE_SPECIAL.test(value)) return value;
  return value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

/**
 * A sample value as the format writes it: `Nan` (prom-client's spelling, read by Prometheus as NaN), `+Inf`, `-Inf`,
 * else JavaScript's shortest round-trip decimal (`42`, `0.25`, `1e+21`, `-0` as `0`), which Go's ParseFloat reads back
 * to the same float64.
 */
export function formatSampleValue(value: number): string {
  if (value !== value) return 'Nan';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return `${value}`;
}

/**
 * The fixed text of a family. `labelNames` are the labels its series have (the catalog's: others still work, at the
 * cost of a few strings per series); `nodeLabels` is labelPairs() of the labels written after each series' own
 * (node_name, cluster), which the series must not repeat (the catalog declares neither for any family, and the
 * gatherer admits only a family's catalog labels).
 */
export function familyText(
  name: string,
  help: string,
  type: string,
  labelNames: readonly string[],
  nodeLabels: string,
): FamilyText {
  const escapedName = escapeHelp(name);
  const firstLabel = new Map<string, string>();
  const nextLabel = new Map<string, string>();
  for (const label of labelNames) {
    firstLabel.set(label, `${escapedName}{${label}="`);
    nextLabel.set(label, `",${label}="`);
  }
  return {
    header: `# HELP ${escapedName} ${escapeHelp(help)}\n# TYPE ${escapedName} ${type}\n`,
    name: escapedName,
    firstLabel,
    nextLabel,
    afterLabels: nodeLabels === '' ? '"} ' : `",${nodeLabels}} `,
    withoutLabels: nodeLabels === '' ? `${escapedName} ` : `${escapedName}{${nodeLabels}} `,
  };
}

/**
 * Labels as written inside the braces, `a="x",b="y"` (values escaped, in the object's order), for the node labels
 * that end every series: made once, not per series. Empty for no labels.
 */
export function labelPairs(labels: Readonly<Record<string, string>>): string {
  let text = '';
  for (const name in labels) {
    if (text !== '') text += ',';
    text += `${name}="${escapeLabelValue(labels[name]!)}"`;
  }
  return text;
}

/**
 * Writes one family into `out` from index `at` on: its header, then one line per sample,
 * `name{own labels,node labels} value\n`, a sample's own labels in its label object's order. Returns the index after
 * the last piece written (`at` for a family without samples: the format allows a bare header, but prom-client left
 * such families out and so do we). Writes 2 pieces per label and 3 per series. Indexed writes rather than push let
 * the caller make `out` the right size at once (exposition.ts: the previous answer's count).
 */
export function appendFamily(out: string[], at: number, family: FamilyText, samples: readonly SampleView[]): number {
  if (samples.length === 0) return at;
  out[at++] = family.header;
  const { firstLabel, nextLabel } = family;
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i]!;
    const labels = sample.labels;
    let opened = false;
    for (const label in labels) {
      let start = opened ? nextLabel.get(label) : firstLabel.get(label);
      if (start === undefined) start = opened ? `",${label}="` : `${family.name}{${label}="`;
      out[at++] = start;
      out[at++] = escapeLabelValue(labels[label]!);
      opened = true;
    }
    out[at++] = opened ? family.afterLabels : family.withoutLabels;
    out[at++] = formatSampleValue(sample.value);
    out[at++] = '\n';
  }
  return at;
}
