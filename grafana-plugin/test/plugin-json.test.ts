/**
 * src/plugin.json against Grafana's plugin.json schema, and against the app itself: one nav page per Scenes page,
 * the configuration page, and a grafanaDependency that covers what the bundle needs.
 */
import pluginJson from '../src/plugin.json';
import { PLUGIN_ID, ROUTES } from '../src/constants';
import { PAGES } from '../src/scenes/pages';
import { pluginJsonErrors } from './plugin-json';

describe('src/plugin.json', () => {
  it('is valid against plugin.schema.json', () => {
    expect(pluginJsonErrors(pluginJson)).toEqual([]);
  });

  it('fails the schema when a required field is missing (the validation is real)', () => {
    const { dependencies: _dependencies, ...withoutDependencies } = pluginJson;
    expect(pluginJsonErrors(withoutDependencies)).toEqual(["/ must have required property 'dependencies'"]);
    expect(pluginJsonErrors({ ...pluginJson, type: 'application' })).not.toEqual([]);
  });

  it('is the kappie-network-app app', () => {
    expect(pluginJson.id).toBe('kappie-network-app');
    expect(pluginJson.type).toBe('app');
    expect(PLUGIN_ID).toBe(pluginJson.id);
  });

  it('lists every Scenes page in the navigation, Overview first and default', () => {
    const pages = pluginJson.includes.filter((include) => include.type === 'page' && include.path.startsWith('/a/'));
    expect(pages.map((page) => [page.name, page.path])).toEqual(
      PAGES.map((page) => [page.title, `/a/%PLUGIN_ID%/${ROUTES[page.key]}`]),
    );
    expect(pages.filter((page) => 'defaultNav' in page && page.defaultNav).map((page) => page.name)).toEqual([
      'Overview',
    ]);
  });

  it('links the configuration page for admins', () => {
    expect(pluginJson.includes).toContainEqual(
      expect.objectContaining({ path: '/plugins/%PLUGIN_ID%', role: 'Admin', addToNav: true }),
    );
  });

  it('requires Grafana 12.3 or later: the bundle takes react/jsx-runtime from Grafana (see the README)', () => {
    expect(pluginJson.dependencies.grafanaDependency).toBe('>=12.3.0');
    // The core Prometheus datasource is not an external plugin: nothing to declare.
    expect(pluginJson.dependencies.plugins).toEqual([]);
  });
});
