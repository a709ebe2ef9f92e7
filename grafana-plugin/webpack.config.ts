/**
 * Kappie's additions to the create-plugin build (.config/webpack): the catalog resolves to its TypeScript source,
 * and the generated dashboards are bundled into dist/dashboards/ and listed in dist/plugin.json `includes`, so
 * Grafana imports them when the app is enabled.
 */
import path from 'node:path';
import webpack, { type Configuration } from 'webpack';
import baseConfig, { type Env } from './.config/webpack/webpack.config';
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

export default (env: Env): Configuration => {
  const config = baseConfig(env);
  return {
    ...config,
    resolve: {
      ...config.resolve,
      alias: { '@kappie/collector/catalog': path.resolve(__dirname, '../collector/src/catalog.ts') },
    },
    module: {
      ...config.module,
      rules: (config.module?.rules ?? []).map((rule) =>
        // The catalog lives in the collector workspace: compile it with the plugin's SWC rule too.
        rule && typeof rule === 'object' && rule.exclude instanceof RegExp && String(rule.test) === String(/\.[tj]sx?$/)
          ? { ...rule, exclude: /node_modules/ }
          : rule,
      ),
    },
    plugins: [...(config.plugins ?? []), new BundleDashboardsPlugin()],
  };
};
