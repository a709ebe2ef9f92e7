import { substituteVariables, VARIABLE_QUERIES, type VariableValues } from '@kappie/dashboards/variables';
import type { PanelDefinition } from '@kappie/dashboards/queries';
import { PAGES } from '../src/scenes/pages';

/** Every panel of every page with a dotted id (`tcp.Top 10 remote peers`), for the PromQL checks. */
export function allPanels(): { id: string; panel: PanelDefinition }[] {
  return PAGES.flatMap((page) => page.rows.flat().map(({ panel }) => ({ id: `${page.key}.${panel.title}`, panel })));
}

/** The panels of one page. */
export function pagePanels(key: (typeof PAGES)[number]['key']): PanelDefinition[] {
  return PAGES.find((page) => page.key === key)!.rows.flatMap((row) => row.map(({ panel }) => panel));
}

/**
 * The selectors inside the variable queries: label_values(selector, label) is Grafana's, not PromQL, and the
 * selector is what Prometheus evaluates.
 */
export function variableSelectors(): { name: string; selector: string }[] {
  return Object.entries(VARIABLE_QUERIES).map(([name, query]) => {
    const selector = /^label_values\((.*), \w+\)$/.exec(query)?.[1];
    if (!selector) throw new Error(`variable ${name}: not a label_values(selector, label) query: ${query}`);
    return { name, selector };
  });
}

/** Grafana's substitution of the pages' variables (the pages use the dashboards' variables). */
export function substitute(expr: string, values: VariableValues): string {
  return substituteVariables(expr, values);
}
