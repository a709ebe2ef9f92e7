/**
 * The app's pages are the dashboards' views (dashboards/src/layouts.ts): the same panels, from the same panel set
 * (dashboards/src/queries.ts), in the same order. This module only arranges them for Scenes: a heading starts a new
 * section, and panels sit side by side until their widths fill the 24-column row, as on the dashboard grid.
 */
import { DASHBOARDS, isPanelItem, isRowItem, type DashboardDefinition } from '@kappie/dashboards/layouts';
import type { DashboardKey, PanelDefinition } from '@kappie/dashboards/queries';

const GRID_COLUMNS = 24;

export interface PagePanel {
  readonly panel: PanelDefinition;
  /** Width out of 24, as on the dashboard. */
  readonly width: number;
}

export interface PageDefinition {
  readonly key: DashboardKey;
  readonly title: string;
  readonly subTitle: string;
  readonly variables: DashboardDefinition['extraVariables'];
  /** Rows of panels, laid out side by side. */
  readonly rows: readonly (readonly PagePanel[])[];
}

/** The page of a view. Text items are left out: the page shows their facts in the panels' descriptions. */
export function pageOf(definition: DashboardDefinition): PageDefinition {
  const rows: PagePanel[][] = [];
  let current: PagePanel[] = [];
  let used = 0;
  const close = () => {
    if (current.length > 0) rows.push(current);
    current = [];
    used = 0;
  };
  for (const item of definition.items) {
    if (isRowItem(item)) close();
    if (!isPanelItem(item)) continue;
    const width = item.width ?? (item.panel.visualization === 'stat' ? 4 : 12);
    if (used + width > GRID_COLUMNS) close();
    current.push({ panel: item.panel, width });
    used += width;
  }
  close();
  return {
    key: definition.key,
    title: definition.pageTitle,
    subTitle: definition.pageSubTitle,
    variables: definition.extraVariables,
    rows,
  };
}

/** Every page, in menu order. */
export const PAGES: readonly PageDefinition[] = DASHBOARDS.map(pageOf);
