/**
 * The Linux-only rule and what a panel says when it has no data, defined once for the dashboards and the app.
 *
 * A panel can have data on a platform only if every catalog metric it reads is reported there (the catalog's
 * `platforms`), so the rule needs no hand-kept list: a panel reading a Linux-only metric is Linux-only. Pure (no
 * Grafana SDK): the app bundles it.
 */
import { METRICS, metricName, type MetricKey, type Platform } from '@kappie/collector/catalog';
import type { PanelDefinition } from './queries';

type Reads = Pick<PanelDefinition, 'metrics'>;

/** Platforms on which every metric of the panel is reported (the intersection). */
export function queryPlatforms(query: Reads): Platform[] {
  const all: Platform[] = ['linux', 'windows'];
  return all.filter((platform) =>
    query.metrics.every((key: MetricKey) => (METRICS[key].platforms as readonly Platform[]).includes(platform)),
  );
}

export function isLinuxOnly(query: Reads): boolean {
  const platforms = queryPlatforms(query);
  return platforms.length === 1 && platforms[0] === 'linux';
}

/** Shown in a Linux-only panel instead of a bare "No data", so a Windows selection explains itself. */
export const LINUX_ONLY_NO_VALUE = 'No data: Linux nodes only (Windows nodes do not report this metric)';
export const GENERIC_NO_VALUE = 'No data';

/** The text a panel shows when its query returns nothing: the panel's own reason, else the Linux-only one. */
export function noDataText(query: Pick<PanelDefinition, 'metrics' | 'noData'>): string {
  if (query.noData) return query.noData;
  return isLinuxOnly(query) ? LINUX_ONLY_NO_VALUE : GENERIC_NO_VALUE;
}

/** Where the panel's values come from on Linux, from the catalog (the app's note when it hides a Linux panel). */
export function linuxOrigin(query: Reads): string {
  return query.metrics
    .map((key) => `${metricName(METRICS[key])}: ${METRICS[key].origin.linux ?? 'Linux only'}`)
    .join('; ');
}

function platformNote(query: Reads): string {
  if (!isLinuxOnly(query)) return '';
  const names = query.metrics.map((key) => metricName(METRICS[key])).join(', ');
  return `\n\n**Linux nodes only**: ${names} has no Windows counterpart, so Windows nodes show no data here.`;
}

function originNote(metrics: readonly MetricKey[]): string {
  const lines = metrics.map((key) => {
    const definition = METRICS[key];
    const origins = Object.entries(definition.origin)
      .map(([platform, origin]) => `${platform === 'linux' ? 'Linux' : 'Windows'}: ${origin}`)
      .join('; ');
    return `${metricName(definition)}: ${origins}.`;
  });
  return `\n\nSource: ${lines.join(' ')}`;
}

/** The panel's full description: what it shows, the Linux-only note where it applies, and where the data comes from. */
export function describePanel(panel: Pick<PanelDefinition, 'description' | 'metrics'>): string {
  return `${panel.description}${platformNote(panel)}${originNote(panel.metrics)}`;
}
