/*
 * The create-plugin webpack configuration (7.x layout), written by hand: an AMD bundle Grafana's SystemJS loader
 * imports, TypeScript compiled by SWC, Grafana's shared modules left external, plugin.json and assets copied into
 * dist/ with %VERSION%, %TODAY% and %PLUGIN_ID% replaced. Extend it in ../../webpack.config.ts, do not edit it for
 * Kappie-specific needs.
 */
import CopyWebpackPlugin from 'copy-webpack-plugin';
import path from 'node:path';
import TerserPlugin from 'terser-webpack-plugin';
import webpack, { type Configuration } from 'webpack';
import { SubresourceIntegrityPlugin } from 'webpack-subresource-integrity';
import VirtualModulesPlugin from 'webpack-virtual-modules';

import { externals } from '../bundler/externals';
import { BuildModeWebpackPlugin } from './BuildModeWebpackPlugin';
import { DIST_DIR, SOURCE_DIR } from './constants';
import { getEntries, getPackageJson, getPluginJson, hasReadme } from './utils';

export type Env = Record<string, string | boolean | undefined>;

const PLACEHOLDERS = /%(VERSION|TODAY|PLUGIN_ID)%/g;

/** Replaces create-plugin's placeholders in the text files Grafana reads (plugin.json, README.md). */
export function replacePlaceholders(
  text: string,
  values: { version: string; today: string; pluginId: string },
): string {
  return text.replace(PLACEHOLDERS, (_match, name: string) =>
    name === 'VERSION' ? values.version : name === 'TODAY' ? values.today : values.pluginId,
  );
}

const config = (env: Env): Configuration => {
  const production = Boolean(env.production);
  const pluginJson = getPluginJson();
  const placeholderValues = {
    version: getPackageJson().version,
    today: new Date().toISOString().slice(0, 10),
    pluginId: pluginJson.id,
  };
  const transformText = (content: Buffer) =>
    Buffer.from(replacePlaceholders(content.toString('utf8'), placeholderValues));

  // Grafana serves the plugin from public/plugins/<id>/ (or a CDN): chunks load relative to where module.js came from.
  const virtualPublicPath = new VirtualModulesPlugin({
    'node_modules/grafana-public-path.js': `
import amdMetaModule from 'amd-module';
__webpack_public_path__ =
  amdMetaModule && amdMetaModule.uri
    ? amdMetaModule.uri.slice(0, amdMetaModule.uri.lastIndexOf('/') + 1)
    : 'public/plugins/${pluginJson.id}/';
`,
  });

  return {
    cache: { type: 'filesystem', buildDependencies: { config: [__filename] } },
    context: path.join(process.cwd(), SOURCE_DIR),
    devtool: production ? 'source-map' : 'eval-source-map',
    entry: getEntries(),
    externals,
    mode: production ? 'production' : 'development',
    module: {
      rules: [
        // First, or source maps break: every module.ts(x) sets the public path before anything else runs.
        {
          test: /src\/(?:.*\/)?module\.tsx?$/,
          use: [{ loader: 'imports-loader', options: { imports: 'side-effects grafana-public-path' } }],
        },
        {
          exclude: /(node_modules)/,
          test: /\.[tj]sx?$/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                baseUrl: path.resolve(process.cwd(), SOURCE_DIR),
                target: 'es2015',
                loose: false,
                parser: { syntax: 'typescript', tsx: true, decorators: false, dynamicImport: true },
                transform: { react: { runtime: 'automatic' } },
              },
            },
          },
        },
        {
          test: /\.(png|jpe?g|gif|svg)$/,
          type: 'asset/resource',
          generator: { filename: production ? '[hash][ext]' : '[file]' },
        },
      ],
    },
    optimization: {
      minimize: production,
      minimizer: [
        new TerserPlugin({
          terserOptions: {
            format: { comments: false },
            compress: { drop_console: ['log', 'info'] },
          },
          extractComments: false,
        }),
      ],
    },
    output: {
      clean: true,
      filename: '[name].js',
      chunkFilename: production ? '[name].js?_cache=[contenthash]' : '[name].js',
      library: { type: 'amd' },
      path: path.resolve(process.cwd(), DIST_DIR),
      publicPath: `public/plugins/${pluginJson.id}/`,
      uniqueName: pluginJson.id,
      crossOriginLoading: 'anonymous',
    },
    plugins: [
      new BuildModeWebpackPlugin(),
      virtualPublicPath,
      new CopyWebpackPlugin({
        patterns: [
          { from: hasReadme() ? 'README.md' : '../README.md', to: '.', force: true, transform: transformText },
          { from: 'plugin.json', to: '.', transform: transformText },
          { from: '../LICENSE', to: '.' },
          { from: '../CHANGELOG.md', to: '.', force: true },
          { from: 'img/**/*', to: '.', noErrorOnMissing: true },
        ],
      }),
      new SubresourceIntegrityPlugin({ hashFuncNames: ['sha256'] }),
      new webpack.BannerPlugin({
        banner: `/* ${pluginJson.id}@${placeholderValues.version} */`,
        raw: true,
        entryOnly: true,
      }),
    ],
    resolve: {
      extensions: ['.js', '.jsx', '.ts', '.tsx'],
      modules: [path.resolve(process.cwd(), SOURCE_DIR), 'node_modules'],
      unsafeCache: true,
    },
  };
};

export default config;
