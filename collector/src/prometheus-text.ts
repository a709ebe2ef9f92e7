/**
 * A parser of the Prometheus text exposition format 0.0.4 (what `kappie serve` writes at /metrics, and every
 * exporter's default), for `kappie snapshot` reading a serving collector. Pure: text in, families out.
 *
 * The format (Prometheus "Exposition formats", text-based format): lines separated by `\n`; `# HELP name text` and
 * `# TYPE name type` describe a family; other `#` lines are comments; a sample is
 * `name{label="value",...} value [timestamp]`, the value a Go float (`NaN`, `+Inf`, `-Inf` allowed), label values
 * escaped with `\\`, `\"` and `\n`. Samples of one family are grouped by name; a histogram or summary's `_bucket`,
 * `_sum` and `_count` series are kept as families of their own names (Kappie exports none).
 *
 * Written here rather than taken from npm: the one package that parses this format (parse-prometheus-text-format)
 * has had no release since 2019 and ships no types, and the grammar is a page long.
 */
import { ParseError } from './errors';

/** One series: its labels by name and its value (a float; NaN and +-Infinity as JavaScript numbers). */
export interface TextSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface TextFamily {
  readonly name: string;
  /** From `# TYPE`; `untyped` when the family had none. */
  readonly type: string;
  /** From `# HELP`, unescaped; empty when the family had none. */
  readonly help: string;
  readonly samples: TextSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
/** A whole string that is a metric name. */
const FULL_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/**
 * A Go float as the format writes it, or undefined when the text is not one. NaN and the infinities are spelled as
 * Go's strconv.ParseFloat (which Prometheus uses) reads them, in any letter case: `NaN` (prom-client, and so Kappie,
 * write `Nan`), `Inf`/`Infinity` with an optional sign.
 */
function parseFloatText(text: string): number | undefined {
  if (/^nan$/i.test(text)) return NaN;
  const infinity = /^([-+]?)inf(inity)?$/i.exec(text);
  if (infinity) return infinity[1] === '-' ? -Infinity : Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Unescapes a HELP text (`\\` and `\n`). */
function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** The labels at the start of `rest` (just after `{`), and what follows the closing `}`. */
function parseLabels(
  rest: string,
  where: string,
  lineNumber: number,
): { labels: Record<string, string>; after: string } {
  const labels: Record<string, string> = {};
  let text = rest;
  for (;;) {
    text = text.trimStart();
    if (text.startsWith('}')) return { labels, after: text.slice(1) };
    const name = LABEL_NAME.exec(text)?.[0];
    if (name === undefined) throw new ParseError(where, `a label name was expected at "${text}"`, lineNumber);
    text = text.slice(name.length).trimStart();
    if (!text.startsWith('="')) throw new ParseError(where, `label ${name} has no ="value"`, lineNumber);
    let value = '';
    let i = 2;
    for (; i < text.length && text[i] !== '"'; i++) {
      if (text[i] !== '\\') {
        value += text[i];
        continue;
      }
      const escaped = text[++i];
      if (escaped === 'n') value += '\n';
      else if (escaped === '\\' || escaped === '"') value += escaped;
      else throw new ParseError(where, `label ${name} has an unknown escape \\${escaped ?? ''}`, lineNumber);
    }
    if (i >= text.length) throw new ParseError(where, `label ${name} has an unterminated value`, lineNumber);
    if (Object.hasOwn(labels, name)) throw new ParseError(where, `label ${name} is given twice`, lineNumber);
    labels[name] = value;
    text = text.slice(i + 1).trimStart();
    if (text.startsWith(',')) text = text.slice(1);
    else if (!text.startsWith('}'))
      throw new ParseError(where, `"," or "}" was expected after label ${name}`, lineNumber);
  }
}

/**
 * The families of an exposition, in the order they first appear. `where` names the text in errors (a URL).
 * Throws ParseError naming the line for anything that is not the format: a reader must not guess a number.
 */
export function parsePrometheusText(text: string, where: string): TextFamily[] {
  const families = new Map<string, { name: string; type: string; help: string; samples: TextSample[] }>();
  const family = (name: string) => {
    let found = families.get(name);
    if (!found) families.set(name, (found = { name, type: 'untyped', help: '', samples: [] }));
    return found;
  };
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (!meta) return; // A comment.
      const [, kind, name, rest = ''] = meta;
      if (!FULL_NAME.test(name!)) {
        throw new ParseError(where, `"${name}" is not a metric name`, lineNumber);
      }
      if (kind === 'HELP') family(name!).help = unescapeHelp(rest);
      else family(name!).type = rest.trim();
      return;
    }
    const name = NAME.exec(line)?.[0];
    if (name === undefined) throw new ParseError(where, `a metric name was expected at "${line}"`, lineNumber);
    let after = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (after.trimStart().startsWith('{')) {
      ({ labels, after } = parseLabels(after.trimStart().slice(1), where, lineNumber));
    }
    const fields = after.trim().split(/\s+/);
    const value = parseFloatText(fields[0] ?? '');
    if (after.trim() === '') throw new ParseError(where, `"${line}" has no value`, lineNumber);
    if (value === undefined || fields.length > 2 || (fields.length === 2 && !/^-?\d+$/.test(fields[1]!))) {
      throw new ParseError(where, `"${after.trim()}" is not a value with an optional timestamp`, lineNumber);
    }
    family(name).samples.push({ labels, value });
  });
  return [...families.values()];
}
