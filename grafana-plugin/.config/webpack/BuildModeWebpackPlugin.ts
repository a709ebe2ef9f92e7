import webpack from 'webpack';

const PLUGIN_NAME = 'BuildModeWebpack';

/** Writes `buildMode` (production or development) into dist/plugin.json, as Grafana's plugin loader reports it. */
export class BuildModeWebpackPlugin {
  apply(compiler: webpack.Compiler): void {
    compiler.hooks.compilation.tap(PLUGIN_NAME, (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: PLUGIN_NAME, stage: webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONS },
        () => {
          const asset = compilation.getAsset('plugin.json');
          if (!asset) return;
          const pluginJson = JSON.parse(asset.source.source().toString()) as Record<string, unknown>;
          pluginJson.buildMode = compilation.options.mode;
          compilation.updateAsset('plugin.json', new webpack.sources.RawSource(JSON.stringify(pluginJson, null, 2)));
        },
      );
    });
  }
}
