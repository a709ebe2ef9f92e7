/**
 * The README's generated parts: the metric table (from the catalog) and the configuration reference (from the
 * OPTIONS table). `npm run docs` rewrites them between their markers; a test fails when the README is stale.
 */
import { LABEL, METRICS, METRIC_KEYS, DEFAULT_METRIC_PREFIX, metricName, type MetricDefinition } from '../catalog';
import { OPTIONS } from '../config';

export interface GeneratedBlock {
  readonly marker: string;
  readonly content: string;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function metricsTable(): string {
  const always = `${LABEL.nodeName}, ${LABEL.cluster} (when configured)`;
  const rows = METRIC_KEYS.map((key) => {
    const m: MetricDefinition = METRICS[key];
    const labels = m.labels.length > 0 ? m.labels.join(', ') : '—';
    const where = (['linux', 'windows'] as const)
      .map((platform) => (m.platforms.includes(platform) ? `**${platform}**: ${m.origin[platform] ?? ''}` : undefined))
      .filter((text) => text !== undefined)
      .join('<br>');
    return `| \`${metricName(m, DEFAULT_METRIC_PREFIX)}\` | ${m.type} | ${labels} | ${cell(m.help)} | ${cell(where)} |`;
  });
  return [
    `Every series also carries ${always}.`,
    '',
    '| metric | type | labels | meaning | where it comes from |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export function configurationTable(): string {
  const rows = OPTIONS.map((spec) => {
    const flag = spec.valueName ? `--${spec.flag} ${spec.valueName}` : `--${spec.flag}`;
    return `| \`${flag}\` | \`${spec.env}\` | ${cell(spec.defaultText)} | ${cell(spec.description)} |`;
  });
  return [
    'Flags win over environment variables. An invalid value prints one line naming the flag (or variable) and what it',
    'accepts, and exits with code 2.',
    '',
    '| flag | environment | default | meaning |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export function generatedBlocks(): GeneratedBlock[] {
  return [
    { marker: 'metrics', content: metricsTable() },
    { marker: 'configuration', content: configurationTable() },
  ];
}

const begin = (marker: string) => `<!-- BEGIN GENERATED ${marker}: npm run docs -->`;
const end = (marker: string) => `<!-- END GENERATED ${marker} -->`;

/** The README with every generated block replaced by its current content; throws when a marker is missing. */
export function renderReadme(readme: string): string {
  let result = readme;
  for (const block of generatedBlocks()) {
    const start = result.indexOf(begin(block.marker));
    const stop = result.indexOf(end(block.marker));
    if (start < 0 || stop < start)
      throw new Error(`README.md lacks the markers of the generated ${block.marker} block`);
    result = `${result.slice(0, start)}${begin(block.marker)}\n${block.content}\n${result.slice(stop)}`;
  }
  return result;
}
