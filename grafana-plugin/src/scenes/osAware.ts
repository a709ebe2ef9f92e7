/**
 * OS awareness: a panel reading a Linux-only metric has nothing to show for Windows nodes. When the OS variable
 * selects no Linux node, such a panel is hidden and a note in its place says why (and where the data comes from on
 * Linux), instead of an empty "No data" panel.
 */
import type { Platform } from '@kappie/collector/catalog';
import {
  MultiValueVariable,
  sceneGraph,
  type SceneFlexItem,
  type SceneObject,
  type SceneVariable,
} from '@grafana/scenes';
import { VARIABLE } from '@kappie/dashboards/variables';

/**
 * The OS label values the variable selects: "All" stands for every listed option. Asked through hasAllValue(), not
 * the value: with a custom "All" value (the OS variable's `.*`) getValue() returns that regex, not the options.
 */
export function selectedOperatingSystems(variable: SceneVariable | null): string[] {
  if (!(variable instanceof MultiValueVariable)) return [];
  if (variable.hasAllValue()) {
    return variable.state.options.map((option: { value: unknown }) => String(option.value));
  }
  const value = variable.getValue();
  return (Array.isArray(value) ? value : [value]).map(String);
}

/**
 * Whether panels limited to `platforms` can have data for the selected OS values. Nothing selected or nothing listed
 * yet (variables still loading, or no collector scraped) shows the panel: only a positive "no node of this OS" hides.
 */
export function panelApplies(platforms: readonly Platform[], selected: readonly string[]): boolean {
  if (selected.length === 0) return true;
  return selected.some((os) => (platforms as readonly string[]).includes(os));
}

/**
 * Scene behaviour for a Linux-only panel: keeps `panel` visible and `note` hidden while a platform the panel
 * supports is selected, and the other way round otherwise; re-evaluated whenever the OS variable changes.
 */
export function showOnlyForPlatforms(platforms: readonly Platform[], panel: SceneFlexItem, note: SceneFlexItem) {
  return (parent: SceneObject): (() => void) => {
    const update = () => {
      const applies = panelApplies(
        platforms,
        selectedOperatingSystems(sceneGraph.lookupVariable(VARIABLE.os, parent) ?? null),
      );
      if (panel.state.isHidden === !applies && note.state.isHidden === applies) return;
      panel.setState({ isHidden: !applies });
      note.setState({ isHidden: applies });
    };
    update();
    const variable = sceneGraph.lookupVariable(VARIABLE.os, parent);
    const subscription = variable?.subscribeToState(update);
    return () => subscription?.unsubscribe();
  };
}
