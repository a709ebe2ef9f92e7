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
 * Written for a collector that runs without an optimising compiler (--no-opt): one array of pieces per scrape joined
 * once, index loops, no string or array made per label or series beyond the escaped values that need escaping and the
 * value's digits.
 */
import type { SampleView } from './source';

/** The `# HELP` and `# TYPE` lines of a family, and its name ready to start a series line. Made once per family. */
export interface FamilyText {
  /** `# HELP name help\n# TYPE name type\n`. */
  readonly header: string;
  /** `name{`: a series line's start when it has labels (always in Kappie: node_name is on every series). */
  readonly nameWithBrace: string;
  /** `name`, for a series without any label. */
  readonly name: string;
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

/** The fixed text of a family: its header lines and series start, made once when the exposition is built. */
export function familyText(name: string, help: string, type: string): FamilyText {
  const escapedName = escapeHelp(name);
  return {
    header: `# HELP ${escapedName} ${escapeHelp(help)}\n# TYPE ${escapedName} ${type}\n`,
    nameWithBrace: `${escapedName}{`,
    name: escapedName,
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
 * Appends one family to `out`: its header, then one line per sample, `name{own labels,trailing labels} value\n`.
 * `trailingLabels` is labelPairs() of the labels every series carries after its own (node_name, cluster); a sample's
 * own labels are written in its label object's order and must not repeat those names (the catalog declares neither
 * for any family, and the gatherer admits only a family's catalog labels). Writes nothing for a family without
 * samples: the format allows a bare header, but prom-client left such families out and so do we.
 */
export function appendFamily(
  out: string[],
  family: FamilyText,
  samples: readonly SampleView[],
  trailingLabels: string,
): void {
  if (samples.length === 0) return;
  out.push(family.header);
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i]!;
    const labels = sample.labels;
    let opened = false;
    for (const label in labels) {
      if (opened) out.push(',', label, '="', escapeLabelValue(labels[label]!), '"');
      else out.push(family.nameWithBrace, label, '="', escapeLabelValue(labels[label]!), '"');
      opened = true;
    }
    if (trailingLabels !== '') out.push(opened ? ',' : family.nameWithBrace, trailingLabels, '} ');
    else if (opened) out.push('} ');
    else out.push(family.name, ' ');
    out.push(formatSampleValue(sample.value), '\n');
  }
}
