/**
 * Kappie's additions to the build `@grafana/create-plugin` scaffolded in .config/ (which `create-plugin update`
 * owns and rewrites: never edit it, extend it here, as .config/README.md "Extending the Webpack config" says):
 * - the metric catalog resolves to its TypeScript source in the collector workspace;
 * - SWC compiles JSX with React's automatic runtime, so the bundle imports `react/jsx-runtime`, which the scaffolded
 *   externals take from Grafana (create-plugin's own templates import React and use the classic runtime);
 * - the generated dashboards are bundled into dist/dashboards/ and listed in dist/plugin.json `includes`, so Grafana
 *   imports them when the app is enabled.
 */
import path from 'node:path';
import webpack, { type Configuration, type RuleSetRule } from 'webpack';
import grafanaConfig, { type Env } from './.config/webpack/webpack.config';
import { DASHBOARDS_DIR, readBundledDashboards, withDashboardIncludes } from './scripts/dashboards';

const PLUGIN_NAME = 'KappieDashboards';

class BundleDashboardsPlugin {
  apply(compiler: webpack.Compiler): void {
    compiler.hooks.compilation.tap(PLUGIN_NAME, (compilation) => {
      compilation.hooks.processAssets.tap(
        // After create-plugin's copy (ADDITIONAL) and before its buildMode stamp (ADDITIONS): plugin.json exists.
        { name: PLUGIN_NAME, stage: webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL + 1 },
        () => {
          const dashboards = readBundledDashboards(DASHBOARDS_DIR);
          for (const dashboard of dashboards) {
            compilation.emitAsset(dashboard.path, new webpack.sources.RawSource(dashboard.text));
            compilation.fileDependencies.add(path.join(DASHBOARDS_DIR, dashboard.file));
          }
          compilation.contextDependencies.add(DASHBOARDS_DIR);
          const asset = compilation.getAsset('plugin.json');
          if (!asset) throw new Error('plugin.json is missing from the build: check src/plugin.json');
          const pluginJson = JSON.parse(asset.source.source().toString()) as Record<string, unknown>;
          const updated = withDashboardIncludes(pluginJson, dashboards);
          compilation.updateAsset('plugin.json', new webpack.sources.RawSource(JSON.stringify(updated, null, 2)));
        },
      );
    });
  }
}

/** The scaffolded SWC rule (the one with `swc-loader`), with React's automatic JSX runtime switched on. */
function withAutomaticJsxRuntime(rule: RuleSetRule): RuleSetRule {
  const use = rule.use;
  if (!use || typeof use !== 'object' || Array.isArray(use) || use.loader !== 'swc-loader') return rule;
  const options = (use.options ?? {}) as { jsc?: Record<string, unknown> };
  const jsc = options.jsc ?? {};
  const transform = (jsc.transform ?? {}) as Record<string, unknown>;
  return {
    ...rule,
    use: {
      ...use,
      options: { ...options, jsc: { ...jsc, transform: { ...transform, react: { runtime: 'automatic' } } } },
    },
  };
}

export default async (env: Env): Promise<Configuration> => {
  const config = await grafanaConfig(env);
  const rules = config.module?.rules ?? [];
  if (!rules.some((rule) => rule && typeof rule === 'object' && withAutomaticJsxRuntime(rule) !== rule)) {
    throw new Error('.config/webpack/webpack.config.ts has no swc-loader rule: check the create-plugin update');
  }
  return {
    ...config,
    resolve: {
      ...config.resolve,
      // The shared modules from their TypeScript sources (not the workspaces' dist/), so the source maps name files
      // the repository has (the plugin validator's jsMap rule compares them with the source code).
      alias: {
        '@kappie/collector/catalog': path.resolve(__dirname, '../collector/src/catalog.ts'),
        '@kappie/collector/drop-reason-classes': path.resolve(__dirname, '../collector/src/drop-reason-classes.ts'),
        '@kappie/dashboards/queries': path.resolve(__dirname, '../dashboards/src/queries.ts'),
        '@kappie/dashboards/platforms': path.resolve(__dirname, '../dashboards/src/platforms.ts'),
        '@kappie/dashboards/layouts': path.resolve(__dirname, '../dashboards/src/layouts.ts'),
        '@kappie/dashboards/variables': path.resolve(__dirname, '../dashboards/src/variables.ts'),
      },
    },
    module: {
      ...config.module,
      rules: rules.map((rule) => (rule && typeof rule === 'object' ? withAutomaticJsxRuntime(rule) : rule)),
    },
    plugins: [...(config.plugins ?? []), new BundleDashboardsPlugin()],
  };
};
