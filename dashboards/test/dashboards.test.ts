/** Invariants every Kappie dashboard keeps so the same JSON works bundled, file-provisioned and imported into AMG. */
import { METRICS, metricName, type MetricKey } from '@kappie/collector/catalog';
import {
  DATASOURCE_REF,
  LINUX_ONLY_NO_VALUE,
  MATCH_ALL,
  VARIABLE,
  allQueries,
  buildAll,
  describePanel,
  isLinuxOnly,
  noDataText,
  panelsOf,
  type DashboardJson,
} from '../src';

type AnyPanel = {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: unknown;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: {
    expr?: string;
    refId?: string;
    datasource?: unknown;
    instant?: boolean;
    range?: boolean;
    legendFormat?: string;
    format?: string;
  }[];
  fieldConfig?: {
    defaults?: { noValue?: string; unit?: string; thresholds?: { steps?: { value: number | null; color: string }[] } };
  };
};
type AnyVariable = { name: string; type: string; query?: unknown; allValue?: string; includeAll?: boolean };

const built = buildAll();
const panelsOfJson = (json: DashboardJson) => (json.panels ?? []) as AnyPanel[];
const variablesOf = (json: DashboardJson) => (json.templating?.list ?? []) as unknown as AnyVariable[];
const queryByExpr = new Map(allQueries().map(({ query }) => [query.expr, query]));

describe.each(built.map((b) => [b.definition.title, b.json, b.definition] as const))(
  '%s',
  (_title, json, definition) => {
    const panels = panelsOfJson(json);
    const dataPanels = panels.filter((p) => p.type !== 'row' && p.type !== 'text');

    it('is classic JSON at the current schema version, without __inputs, with a null id and a stable uid', () => {
      expect(json.schemaVersion).toBe(42);
      expect(json).not.toHaveProperty('__inputs');
      expect(JSON.stringify(json)).not.toMatch(/\$\{DS_/);
      expect(json.id).toBeNull();
      expect(json.uid).toMatch(/^kappie-[a-z]+$/);
      expect((json.uid as string).length).toBeLessThanOrEqual(40); // Grafana's uid limit
      expect(json.annotations).toEqual({ list: [] });
    });

    it('has the datasource, cluster, OS and node variables, tolerant of a missing cluster label', () => {
      const vars = new Map(variablesOf(json).map((v) => [v.name, v]));
      expect(vars.get(VARIABLE.datasource)).toMatchObject({ type: 'datasource', query: 'prometheus' });
      expect(vars.get(VARIABLE.cluster)).toMatchObject({ type: 'query', includeAll: true, allValue: MATCH_ALL });
      expect(vars.get(VARIABLE.os)).toMatchObject({ type: 'query', includeAll: true, allValue: MATCH_ALL });
      // "All" nodes must expand to the nodes of the chosen OS, so no custom all value.
      expect(vars.get(VARIABLE.node)).toMatchObject({ type: 'query', includeAll: true });
      expect(vars.get(VARIABLE.node)?.allValue).toBeUndefined();
      for (const v of vars.values()) {
        if (v.type === 'query') expect(JSON.stringify(v)).toContain(metricName(METRICS.buildInfo).slice(0, 7));
      }
    });

    it('gives every stat and bar gauge its own thresholds (Grafana colours by thresholds, red from 80 by default)', () => {
      // Stat and bar gauge panels colour their values by thresholds; without thresholds in the JSON Grafana applies
      // its default (base green, red from 80), so a count of 81 connections or 1 kb/s of traffic would show red.
      for (const panel of dataPanels.filter((p) => p.type === 'stat' || p.type === 'bargauge')) {
        const steps = panel.fieldConfig?.defaults?.thresholds?.steps;
        expect({ title: panel.title, explicit: Array.isArray(steps) && steps.length > 0 }).toEqual({
          title: panel.title,
          explicit: true,
        });
      }
    });

    it('defines every variable its queries use', () => {
      const defined = new Set(variablesOf(json).map((v) => v.name));
      for (const panel of dataPanels) {
        for (const target of panel.targets ?? []) {
          for (const [, name] of (target.expr ?? '').matchAll(/\$([A-Za-z]\w*)/g)) expect(defined).toContain(name);
        }
      }
    });

    it('points every panel and query at the datasource variable', () => {
      for (const panel of dataPanels) {
        expect(panel.datasource).toEqual(DATASOURCE_REF);
        expect(panel.targets?.length).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          expect(target.datasource).toEqual(DATASOURCE_REF);
          expect(target.refId).toBe('A');
        }
      }
    });

    it('renders exactly the panels of its view, each as queries.ts defines it (query, legend, unit, no-data text)', () => {
      const expected = panelsOf(definition);
      expect(dataPanels.map((p) => p.title)).toEqual(expected.map((p) => p.title));
      dataPanels.forEach((panel, index) => {
        const query = expected[index]!;
        expect(queryByExpr.get(panel.targets?.[0]?.expr ?? '')).toBe(query);
        expect(panel.targets?.[0]).toMatchObject({
          expr: query.expr,
          legendFormat: query.legend,
          instant: query.kind === 'instant',
          range: query.kind === 'range',
        });
        expect(panel.targets?.[0]?.format).toBe(query.visualization === 'table' ? 'table' : undefined);
        expect(panel.type).toBe(query.visualization);
        expect(panel.fieldConfig?.defaults?.unit).toBe(query.unit);
        expect(panel.fieldConfig?.defaults?.noValue).toBe(noDataText(query));
        expect(panel.description).toBe(describePanel(query));
        expect(query.description.length).toBeGreaterThan(40);
        expect(panel.description).toContain('Source: ');
      });
    });

    it('says "Linux nodes only" in the description and the no-data text of Linux-only panels, and nowhere else', () => {
      for (const panel of dataPanels) {
        const query = queryByExpr.get(panel.targets?.[0]?.expr ?? '');
        expect(query).toBeDefined();
        if (query && isLinuxOnly(query)) {
          expect(panel.description).toContain('**Linux nodes only**');
          expect(panel.fieldConfig?.defaults?.noValue).toBe(query.noData ?? LINUX_ONLY_NO_VALUE);
        } else {
          expect(panel.description).not.toContain('Linux nodes only');
          expect(panel.fieldConfig?.defaults?.noValue).toBe(query?.noData ?? 'No data');
        }
      }
    });

    it('lays panels out on the 24-column grid without overlaps, with unique ids', () => {
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const cells = new Set<string>();
      for (const panel of panels) {
        const { x, y, w, h } = panel.gridPos as NonNullable<AnyPanel['gridPos']>;
        expect(x + w).toBeLessThanOrEqual(24);
        for (let i = x; i < x + w; i++) {
          for (let j = y; j < y + h; j++) {
            expect(cells.has(`${i},${j}`)).toBe(false);
            cells.add(`${i},${j}`);
          }
        }
      }
    });
  },
);

describe('queries', () => {
  const counters = (Object.keys(METRICS) as MetricKey[]).filter((k) => METRICS[k].type === 'counter');
  const gauges = (Object.keys(METRICS) as MetricKey[]).filter((k) => METRICS[k].type === 'gauge');

  it.each(allQueries().map(({ id, query }) => [id, query] as const))(
    '%s reads catalog metrics correctly',
    (_id, query) => {
      const names = [...new Set([...query.expr.matchAll(/\b(kappie_\w+)\{/g)].map((m) => m[1]))];
      expect(names.sort()).toEqual(
        query.metrics
          .map((k) => metricName(METRICS[k]))
          .filter((n) => names.includes(n))
          .sort(),
      );
      expect(names.length).toBeGreaterThan(0);
      for (const key of counters) {
        // Counters are exported verbatim: only their rate or increase means anything.
        for (const m of query.expr.matchAll(new RegExp(`(\\w*)\\(${metricName(METRICS[key])}\\{`, 'g'))) {
          expect(['rate', 'increase']).toContain(m[1]);
        }
        if (query.expr.includes(`${metricName(METRICS[key])}{`))
          expect(query.expr).toMatch(/\[\$__(rate_interval|range)\]/);
      }
      for (const key of gauges) {
        expect(query.expr).not.toMatch(new RegExp(`(rate|increase)\\(${metricName(METRICS[key])}\\{`));
      }
    },
  );

  it('defines each expression once (a panel shown in two views is one definition)', () => {
    const exprs = allQueries().map(({ query }) => query.expr);
    expect(exprs.filter((expr, index) => exprs.indexOf(expr) !== index)).toEqual([]);
  });

  it('covers every data-plane metric of the catalog with at least one panel', () => {
    const used = new Set(allQueries().flatMap(({ query }) => query.metrics));
    for (const key of Object.keys(METRICS) as MetricKey[]) {
      if (key === 'buildInfo') continue;
      expect([key, used.has(key)]).toEqual([key, true]);
    }
  });
});
