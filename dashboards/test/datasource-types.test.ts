/**
 * Every generated dashboard works with both Prometheus data source types, core `prometheus` and
 * `grafana-azureprometheus-datasource` (and Amazon's), on Grafana 12 and 13, however it reaches Grafana: bundled in
 * the app, file-provisioned, imported as JSON or pushed with `kappie dashboards push` (all four use the same files).
 *
 * The mechanism (see DATASOURCE_PLUGIN_ID in src/variables.ts): Grafana lists a data source variable's options with
 * `matchPluginId(variable.query, dataSource.meta)`. Grafana 13's function is run here as Grafana ships it
 * (@grafana/data 13.1, installed for the app); Grafana 12's rule, from grafana/grafana PR #103321 (12.0), is restated
 * below. Panels and query variables must point at the variable, so whatever the variable lists is what they query.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DATASOURCE_PLUGIN_ID, VARIABLE, buildAll, type DashboardJson } from '../src';
import { GENERATED_DIR } from '../src/generate';

type PluginMetaLike = { id: string; aliasIDs?: string[] };
type Matcher = (idToMatch: string, meta: PluginMetaLike) => boolean;

/** Grafana 13's own matchPluginId, loaded from the installed @grafana/data (its CommonJS build has no imports). */
function grafana13Matcher(): { version: string; match: Matcher } {
  const packageJson = require.resolve('@grafana/data/package.json', {
    paths: [path.join(__dirname, '../../grafana-plugin')],
  });
  const { version } = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string };
  const file = path.join(path.dirname(packageJson), 'dist', 'cjs', 'utils', 'matchPluginId.cjs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { matchPluginId } = require(file) as { matchPluginId: Matcher };
  return { version, match: matchPluginId };
}

/** Grafana 12.x (packages/grafana-data/src/utils/matchPluginId.ts after PR #103321): prometheus matches its flavours. */
const grafana12Match: Matcher = (idToMatch, meta) => {
  if (meta.id === idToMatch) return true;
  if (idToMatch === 'prometheus') return /grafana-.*prometheus-datasource/.test(meta.id);
  return meta.aliasIDs?.includes(idToMatch) ?? false;
};

const CORE: PluginMetaLike = { id: 'prometheus' };
const AZURE: PluginMetaLike = { id: 'grafana-azureprometheus-datasource' };
const AMAZON: PluginMetaLike = { id: 'grafana-amazonprometheus-datasource' };
const LOKI: PluginMetaLike = { id: 'loki' };

type Ref = { type?: string; uid?: string };
type Variable = { type: string; name: string; query?: unknown; datasource?: Ref };
type Panel = { type: string; title?: string; datasource?: Ref; targets?: { datasource?: Ref }[] };

/** Why a dashboard would not list or query both types with `match`, or [] when it works. */
function problems(dashboard: DashboardJson, match: Matcher): string[] {
  const found: string[] = [];
  const json = dashboard as unknown as Record<string, unknown>;
  if ('__inputs' in json) found.push('has __inputs: an app plugin imports bundled dashboards with no inputs');
  const variables = ((dashboard.templating?.list ?? []) as unknown as Variable[]).filter(Boolean);
  const sources = variables.filter((v) => v.type === 'datasource');
  if (sources.length !== 1) found.push(`expected one data source variable, found ${sources.length}`);
  for (const variable of sources) {
    const query = String(variable.query);
    for (const meta of [CORE, AZURE]) {
      if (!match(query, meta)) found.push(`variable ${variable.name} (query "${query}") does not list ${meta.id}`);
    }
    if (match(query, LOKI)) found.push(`variable ${variable.name} lists non-Prometheus data sources`);
  }
  const variableRef = `\${${VARIABLE.datasource}}`;
  const checkRef = (where: string, ref: Ref | undefined) => {
    if (ref?.uid !== variableRef) found.push(`${where} does not use ${variableRef} (uid ${ref?.uid})`);
    if (ref?.type !== undefined && !match(ref.type, CORE)) found.push(`${where} has type ${ref.type}`);
  };
  for (const variable of variables.filter((v) => v.type === 'query'))
    checkRef(`variable ${variable.name}`, variable.datasource);
  for (const panel of (dashboard.panels ?? []) as Panel[]) {
    if (panel.type === 'row' || panel.type === 'text') continue;
    checkRef(`panel "${panel.title}"`, panel.datasource);
    for (const target of panel.targets ?? []) checkRef(`a query of "${panel.title}"`, target.datasource);
  }
  return found;
}

/** The committed files: what the app bundles, provisioning loads and `kappie dashboards push` uploads. */
const committed = fs
  .readdirSync(GENERATED_DIR)
  .filter((file) => file.endsWith('.json'))
  .map((file) => [file, JSON.parse(fs.readFileSync(path.join(GENERATED_DIR, file), 'utf8')) as DashboardJson] as const);
const grafana13 = grafana13Matcher();

describe('both Prometheus data source types', () => {
  it('runs the matchPluginId of Grafana 13 as installed', () => {
    expect(grafana13.version).toMatch(/^13\./);
    expect(grafana13.match('prometheus', AZURE)).toBe(true);
    expect(grafana13.match('prometheus', AMAZON)).toBe(true);
    expect(grafana13.match('grafana-azureprometheus-datasource', CORE)).toBe(true);
    expect(grafana13.match('prometheus', LOKI)).toBe(false);
  });

  it('checks the four committed dashboards', () =>
    expect(committed.map(([file]) => file).sort()).toEqual([
      'drops.json',
      'interfaces.json',
      'overview.json',
      'tcp.json',
    ]));

  it.each(committed)('%s lists and queries core and Azure Prometheus on Grafana 13 and 12', (_file, dashboard) => {
    expect(problems(dashboard, grafana13.match)).toEqual([]);
    expect(problems(dashboard, grafana12Match)).toEqual([]);
  });

  it('uses the plugin id the mechanism needs', () => {
    expect(DATASOURCE_PLUGIN_ID).toBe('prometheus');
  });

  it('catches a dashboard that would not list both types (the check can fail)', () => {
    const { json } = buildAll()[0]!;
    const azureOnly = JSON.parse(
      JSON.stringify(json).replace('"query":"prometheus"', '"query":"grafana-azureprometheus-datasource"'),
    ) as DashboardJson;
    // Grafana 12 matches an exact non-"prometheus" id only: the core data sources drop out.
    expect(problems(azureOnly, grafana12Match)).toEqual([
      'variable datasource (query "grafana-azureprometheus-datasource") does not list prometheus',
    ]);
    const hardCoded = JSON.parse(JSON.stringify(json).replaceAll('${datasource}', 'my-prometheus')) as DashboardJson;
    expect(problems(hardCoded, grafana13.match).length).toBeGreaterThan(0);
    const withInputs = { ...json, __inputs: [{ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }] };
    expect(problems(withInputs as DashboardJson, grafana13.match)).toEqual([
      'has __inputs: an app plugin imports bundled dashboards with no inputs',
    ]);
  });
});
