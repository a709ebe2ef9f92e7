/** Small statistics and table helpers shared by the benchmarks. */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

export function stdev(values: readonly number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / Math.max(1, values.length - 1));
}

/**
 * A distribution-free confidence interval for the median of `values` (at least 6 of them for 95%): the order
 * statistics x(k) and x(n+1-k), k the largest rank whose two-sided binomial(n, 1/2) tail stays within 1 - `level`
 * (the sign test's interval; no assumption on the shape of the distribution, only independent draws). Undefined when
 * there are too few values for `level`.
 */
export function medianConfidenceInterval(
  values: readonly number[],
  level = 0.95,
): { low: number; high: number } | undefined {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  // P(X <= j) for X ~ binomial(n, 1/2), accumulated j = 0, 1, ...
  let tail = 0;
  let choose = 1; // C(n, j)
  let k = 0;
  for (let j = 0; j < n; j++) {
    tail += choose / 2 ** n;
    if (2 * tail > 1 - level) break;
    k = j + 1;
    choose = (choose * (n - j)) / (j + 1);
  }
  if (k === 0) return undefined;
  return { low: sorted[k - 1]!, high: sorted[n - k]! };
}

export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}

export interface Table {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** A Markdown table, ready to paste into bench/RESULTS.md. */
export function renderTable(table: Table): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(table.headers), line(table.headers.map(() => '---')), ...table.rows.map(line)].join('\n');
}
