/**
 * The dashboards the app bundles: every dashboard JSON in dashboards/generated (the dashboards workspace writes
 * them), copied to dist/dashboards/ and listed in plugin.json `includes` so Grafana imports them with the app.
 * Other JSON files there (e.g. a revisions index) are not dashboards and are skipped.
 */
import fs from 'node:fs';
import path from 'node:path';

export const DASHBOARDS_DIR = path.resolve(__dirname, '../../dashboards/generated');

export interface BundledDashboard {
  /** File name in dashboards/generated. */
  readonly file: string;
  /** Path inside dist/ and in plugin.json `includes`. */
  readonly path: string;
  readonly title: string;
  readonly uid?: string;
  readonly text: string;
}

export interface DashboardInclude {
  readonly type: 'dashboard';
  readonly name: string;
  readonly path: string;
  readonly uid?: string;
  readonly addToNav: false;
}

/** A dashboard is an object with a title and a panels array; anything else in the folder is not one. */
export function parseDashboard(file: string, text: string): BundledDashboard | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`dashboards/generated/${file}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const { title, uid, panels } = json as Record<string, unknown>;
  if (typeof title !== 'string' || !Array.isArray(panels)) return undefined;
  return {
    file,
    path: `dashboards/${file}`,
    title,
    uid: typeof uid === 'string' ? uid : undefined,
    text,
  };
}

/** Every dashboard in `dir`, sorted by file name; none when the folder does not exist yet. */
export function readBundledDashboards(dir: string): BundledDashboard[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .flatMap((file) => parseDashboard(file, fs.readFileSync(path.join(dir, file), 'utf8')) ?? []);
}

export function dashboardIncludes(dashboards: readonly BundledDashboard[]): DashboardInclude[] {
  return dashboards.map((dashboard) => ({
    type: 'dashboard',
    name: dashboard.title,
    path: dashboard.path,
    ...(dashboard.uid ? { uid: dashboard.uid } : {}),
    addToNav: false,
  }));
}

/** plugin.json with the dashboards appended to `includes` (replacing any dashboard entries already there). */
export function withDashboardIncludes(
  pluginJson: Record<string, unknown>,
  dashboards: readonly BundledDashboard[],
): Record<string, unknown> {
  const includes = Array.isArray(pluginJson.includes) ? (pluginJson.includes as { type?: string }[]) : [];
  return {
    ...pluginJson,
    includes: [...includes.filter((include) => include.type !== 'dashboard'), ...dashboardIncludes(dashboards)],
  };
}
