/**
 * The app and the dashboards show one panel set (dashboards/src/queries.ts): every page panel is a panel of the
 * shared set by identity, each page shows its dashboard's panels in the same order, the scenes the app builds send
 * the shared query with the shared legend, unit and no-data text, and the app's source holds no PromQL of its own
 * (a second copy is how the two drifted before).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SceneDataTransformer, SceneQueryRunner, VizPanel, sceneGraph, type SceneDataProvider } from '@grafana/scenes';
import { DASHBOARDS, panelsOf } from '@kappie/dashboards/layouts';
import { allQueries, isLinuxOnly, noDataText, type PanelDefinition } from '@kappie/dashboards/queries';
import { pageScene } from '../src/scenes/page';
import { PAGES } from '../src/scenes/pages';

const shared = new Set<PanelDefinition>(allQueries().map(({ query }) => query));
const pagePanels = (page: (typeof PAGES)[number]) => page.rows.flatMap((row) => row.map(({ panel }) => panel));

function runnerOf(data: SceneDataProvider | undefined): SceneQueryRunner {
  if (data instanceof SceneQueryRunner) return data;
  if (data instanceof SceneDataTransformer) return runnerOf(data.state.$data);
  throw new Error('panel without a query runner');
}

describe('one query set for the app and the dashboards', () => {
  it('builds every page panel from the shared set, by identity', () => {
    for (const page of PAGES) {
      for (const panel of pagePanels(page))
        expect([page.key, panel.title, shared.has(panel)]).toEqual([page.key, panel.title, true]);
    }
  });

  it('shows on each page the panels of its dashboard, in the same order', () => {
    expect(PAGES.map((page) => page.key)).toEqual(DASHBOARDS.map((dashboard) => dashboard.key));
    PAGES.forEach((page, index) => expect(pagePanels(page)).toEqual(panelsOf(DASHBOARDS[index]!)));
  });

  it.each(PAGES.map((page) => [page.key, page] as const))(
    'renders the %s page with the shared query, legend, unit, no-data text and thresholds of each panel',
    (_key, page) => {
      const scene = pageScene(page, { uid: 'prom', type: 'prometheus' });
      const vizPanels = sceneGraph.findAllObjects(scene, (object) => object instanceof VizPanel) as VizPanel[];
      const expected = pagePanels(page);
      expect(vizPanels).toHaveLength(expected.length);
      vizPanels.forEach((viz, index) => {
        const panel = expected[index]!;
        const [query] = runnerOf(viz.state.$data).state.queries as unknown as { expr: string; legendFormat: string }[];
        expect(query).toMatchObject({ expr: panel.expr, legendFormat: panel.legend });
        expect(viz.state.title).toBe(isLinuxOnly(panel) ? `${panel.title} (Linux nodes)` : panel.title);
        expect(viz.state.fieldConfig.defaults.unit).toBe(panel.unit);
        expect(viz.state.fieldConfig.defaults.noValue).toBe(noDataText(panel));
        expect(viz.state.pluginId).toBe(panel.visualization);
        // Stats and bar gauges colour by thresholds: without them Grafana's default turns values red from 80.
        if (panel.visualization === 'stat' || panel.visualization === 'bargauge') {
          expect(viz.state.fieldConfig.defaults.thresholds?.steps).toEqual(
            (panel.thresholds ?? []).map((step) => ({ value: step.value ?? -Infinity, color: step.color })),
          );
          expect(panel.thresholds?.length).toBeGreaterThan(0);
        }
      });
    },
  );

  it('keeps no PromQL, metric name or variable query in the app source', () => {
    const sourceDir = path.join(__dirname, '..', 'src');
    const files = fs.readdirSync(sourceDir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = fs.readFileSync(path.join(sourceDir, file), 'utf8');
      for (const pattern of [/\brate\(/, /\bsum by\b/, /label_values\(/, /kappie_[a-z]/, /\$__rate_interval/]) {
        expect([file, pattern.test(text)]).toEqual([file, false]);
      }
    }
  });
});
