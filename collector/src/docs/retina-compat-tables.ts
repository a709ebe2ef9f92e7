/**
 * The README's two generated tables of `--compat retina`: the label values it writes differently (from the mapping
 * table of compat-retina.ts) and what each panel of Retina's node dashboard shows (from compat-retina-dashboard.ts).
 */
import { METRICS, RETINA_METRIC_PREFIX, metricName } from '../catalog';
import { RETINA_COMMIT, RETINA_DASHBOARD, RETINA_FAMILY_MOVES, RETINA_LABEL_VALUES } from '../compat-retina';
import { RETINA_DASHBOARD_PANELS, type RetinaPanel } from '../compat-retina-dashboard';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

const retinaName = (key: keyof typeof METRICS) => `\`${metricName(METRICS[key], RETINA_METRIC_PREFIX)}\``;

export function retinaMappingTable(): string {
  const values = RETINA_LABEL_VALUES.map(
    (e) =>
      `| ${retinaName(e.metric)} | \`${e.label}="${e.ours}"\` | \`${e.label}="${e.retina}"\` | ${cell(e.panel)} | ${cell(e.agent)} | ${cell(e.meaning)} |`,
  );
  const moves = RETINA_FAMILY_MOVES.map((m) => {
    const labels = Object.entries(m.labels)
      .map(([label, value]) => `${label}="${value}"`)
      .join(',');
    return `| ${retinaName(m.to)} | \`${metricName(METRICS[m.from])}\` (the whole family) | \`${labels}\` | ${cell(m.panel)} | ${cell(m.agent)} | ${cell(m.meaning)} |`;
  });
  return [
    `Facts from ${RETINA_DASHBOARD} and Retina's agent code at commit ${RETINA_COMMIT} (paths in Retina's repository).`,
    '',
    "| family | Kappie writes | `--compat retina` writes | dashboard panel | Retina's agent emits | meaning |",
    '|---|---|---|---|---|---|',
    ...values,
    ...moves,
  ].join('\n');
}

function query(panel: RetinaPanel): string {
  const matchers = panel.matchers.map(([label, op, value]) => `${label}${op}"${value}"`).join(', ');
  const selector = `${metricName(METRICS[panel.metric], RETINA_METRIC_PREFIX)}${matchers ? `{${matchers}}` : ''}`;
  const aggregation = panel.by ? `sum by (${panel.by})` : 'sum';
  return `${aggregation}(${panel.rate ? `rate(${selector})` : selector})${panel.positiveOnly ? ' > 0' : ''}`;
}

function needText(panel: RetinaPanel): string {
  if (!panel.needs) return '—';
  if (panel.needs.kind === 'kprobe-hist') return 'kprobe events and hist triggers in the kernel';
  return `a NIC driver with that statistic; drivers that have it: ${panel.needs.drivers}`;
}

export function retinaPanelsTable(): string {
  const rows = RETINA_DASHBOARD_PANELS.map(
    (p) => `| ${p.row} | ${cell(p.title)} | \`${cell(query(p))}\` | ${cell(needText(p))} | ${cell(p.kappie)} |`,
  );
  return [
    '| row | panel | reads (cluster and node filters left out) | needs | shows with Kappie |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
