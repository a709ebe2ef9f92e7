import { substituteVariables, type VariableValues } from '@kappie/dashboards/variables';
import { PAGES, PAGE_KEYS, type PanelDefinition } from '../src/queries/panels';
import { VARIABLE_QUERIES } from '../src/queries/promql';

/** Every panel of every page with a dotted id (`tcp.Top remote peers`), for the PromQL checks. */
export function allPanels(): { id: string; panel: PanelDefinition }[] {
  return PAGE_KEYS.flatMap((key) =>
    PAGES[key].rows.flat().map((panel) => ({ id: `${key}.${panel.title}`, panel: panel as PanelDefinition })),
  );
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

/** Grafana's substitution of the pages' variables (the pages use the dashboards' variable names). */
export function substitute(expr: string, values: VariableValues): string {
  return substituteVariables(expr, values);
}
