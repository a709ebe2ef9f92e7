/**
 * Text tables and prose that fit a terminal's width, for `kappie snapshot` and `kappie sources`.
 *
 * A table keeps every cell whole when it fits. When it does not, its text columns (cells with spaces: reasons,
 * metric lists, descriptions) wrap at spaces, narrowest first left at their natural width; a table of unbreakable
 * cells (the interface counters) is split into column blocks printed one under the other, each repeating the first
 * (key) column. Only a width too small for one column besides the key cuts words. Pure: strings in, string out.
 */

/** Width when the output is not a terminal: wide enough for every table but the long texts, which wrap. */
export const DEFAULT_WIDTH = 120;
/** Prose never wraps narrower than this (a narrower terminal gets longer lines rather than a column of words). */
const MIN_PROSE_WIDTH = 24;
/** Spaces between two columns. */
const GAP = 2;

/** `text` in lines of at most `width` characters, broken at spaces (a longer word is cut). */
export function wrap(text: string, width: number): string[] {
  const limit = Math.max(1, width);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    let rest = word;
    while (rest.length > limit) {
      if (line !== '') lines.push(line);
      lines.push(rest.slice(0, limit));
      rest = rest.slice(limit);
      line = '';
    }
    if (line === '') line = rest;
    else if (line.length + 1 + rest.length <= limit) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  lines.push(line);
  return lines;
}

/** Prose in lines of at most `width` characters (never narrower than MIN_PROSE_WIDTH), each line after `indent`. */
export function prose(text: string, width: number, indent = ''): string {
  return wrap(text, Math.max(MIN_PROSE_WIDTH, width - indent.length))
    .map((line) => `${indent}${line}`)
    .join('\n');
}

/** The width of `widths` laid side by side. */
function totalWidth(widths: readonly number[]): number {
  return widths.reduce((sum, w) => sum + w, 0) + GAP * Math.max(0, widths.length - 1);
}

/** The longest space-separated word of each column (headers included): narrower, a column cuts words. */
function longestWords(cells: readonly (readonly string[])[], columns: number): number[] {
  return Array.from({ length: columns }, (_, column) =>
    Math.max(1, ...cells.flatMap((row) => (row[column] ?? '').split(' ').map((word) => word.length))),
  );
}

/**
 * Column widths for `width`: natural widths when they fit; else every column at its longest word and the room left
 * shared out evenly among the columns still narrower than their natural width (so short columns stay whole and the
 * long texts share the rest); undefined when even the longest words do not fit side by side.
 */
function fittedWidths(natural: readonly number[], words: readonly number[], width: number): number[] | undefined {
  if (totalWidth(natural) <= width) return [...natural];
  const widths = words.map((word, column) => Math.min(word, natural[column]!));
  if (totalWidth(widths) > width) return undefined;
  let room = width - totalWidth(widths);
  for (;;) {
    const growing = widths.flatMap((w, column) => (w < natural[column]! ? [column] : []));
    if (room <= 0 || growing.length === 0) return widths;
    const share = Math.max(1, Math.floor(room / growing.length));
    for (const column of growing) {
      const grow = Math.min(share, natural[column]! - widths[column]!, room);
      widths[column]! += grow;
      room -= grow;
    }
  }
}

/** One block of a table, its columns at `widths`: every cell wrapped to its column, rows as tall as their tallest cell. */
function renderBlock(headers: readonly string[], rows: readonly (readonly string[])[], widths: number[]): string[] {
  const format = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join(' '.repeat(GAP))
      .trimEnd();
  const lines: string[] = [];
  for (const [index, row] of [headers, ...rows].entries()) {
    const wrapped = widths.map((w, column) => wrap(row[column] ?? '', w));
    const height = Math.max(...wrapped.map((cell) => cell.length));
    for (let line = 0; line < height; line++) lines.push(format(wrapped.map((cell) => cell[line] ?? '')));
    if (index === 0) lines.push(format(widths.map((w) => '-'.repeat(w))));
  }
  return lines;
}

/**
 * The columns after the first split into the fewest blocks of about equal size that fit `width` beside the first
 * column (at their longest words); one column per block when none fit better.
 */
function columnBlocks(natural: readonly number[], words: readonly number[], width: number): number[][] {
  const rest = natural.map((_, column) => column).slice(1);
  const minimum = (column: number) => Math.min(words[column]!, natural[column]!);
  for (let count = 2; count < rest.length; count++) {
    const size = Math.ceil(rest.length / count);
    const blocks = Array.from({ length: Math.ceil(rest.length / size) }, (_, b) =>
      rest.slice(b * size, (b + 1) * size),
    );
    if (blocks.every((block) => totalWidth([minimum(0), ...block.map(minimum)]) <= width)) return blocks;
  }
  return rest.map((column) => [column]);
}

/** Widths that fit `width` whatever the cells: the widest columns are narrowed in turn (their words are then cut). */
function squeezedWidths(natural: readonly number[], words: readonly number[], width: number): number[] {
  const widths = natural.map((w, column) => Math.min(w, words[column]!));
  while (totalWidth(widths) > width) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= 1) break;
    widths[widest]! -= 1;
  }
  return widths;
}

/**
 * A text table: a header row, a rule, then the rows, columns padded to their widest cell, no line wider than `width`
 * (characters; unbounded by default) when that is possible at all (see the module comment for how it fits).
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  width = Number.POSITIVE_INFINITY,
): string {
  const all = [headers, ...rows];
  const natural = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const words = longestWords(all, headers.length);
  const fitted = fittedWidths(natural, words, width);
  if (fitted !== undefined) return renderBlock(headers, rows, fitted).join('\n');
  if (headers.length <= 2) return renderBlock(headers, rows, squeezedWidths(natural, words, width)).join('\n');
  return columnBlocks(natural, words, width)
    .map((block) => {
      const pick = (cells: readonly string[]) => [cells[0] ?? '', ...block.map((column) => cells[column] ?? '')];
      return table(pick(headers), rows.map(pick), width);
    })
    .join('\n\n');
}
