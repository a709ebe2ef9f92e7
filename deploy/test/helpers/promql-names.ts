/**
 * The metric and label names a PromQL expression uses, for checking them against the catalog. A small tokenizer,
 * not a parser: strings are removed first, then identifiers are classified by what follows or precedes them.
 */
const FUNCTIONS_AND_KEYWORDS = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'rate',
  'irate',
  'increase',
  'avg_over_time',
  'sum_over_time',
  'max_over_time',
  'min_over_time',
  'count_over_time',
  'histogram_quantile',
  'topk',
  'bottomk',
  'abs',
  'clamp_min',
  'clamp_max',
  'absent',
  'vector',
  'scalar',
  'label_replace',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'time',
  'delta',
  'deriv',
  'changes',
  'resets',
  'last_over_time',
]);

export interface PromqlNames {
  readonly metrics: string[];
  readonly labels: string[];
}

export function promqlNames(expr: string): PromqlNames {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const labels = new Set<string>();
  // Label matchers: name followed by =, !=, =~ or !~ inside braces.
  for (const braces of withoutStrings.matchAll(/\{([^}]*)\}/g)) {
    for (const m of braces[1]!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) labels.add(m[1]!);
  }
  // Grouping lists: by (...), without (...), on (...), ignoring (...), group_left (...).
  for (const group of withoutStrings.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const m of group[1]!.matchAll(/[a-zA-Z_]\w*/g)) labels.add(m[0]);
  }
  const stripped = withoutStrings
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    // Durations (offset 5m) and numbers (1e5, 0.05) are not names.
    .replace(/(?<![\w:])\d[\d.]*(?:e[+-]?\d+)?(?:ms|[smhdwy])?(?![\w:])/g, ' ');
  const metrics = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const name = m[0];
    const next = stripped.slice(m.index! + name.length).trimStart();
    if (FUNCTIONS_AND_KEYWORDS.has(name) && (next.startsWith('(') || !name.includes('_'))) continue;
    if (FUNCTIONS_AND_KEYWORDS.has(name)) continue;
    metrics.add(name);
  }
  return { metrics: [...metrics], labels: [...labels] };
}
