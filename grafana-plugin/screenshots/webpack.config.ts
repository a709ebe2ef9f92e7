/**
 * The screenshot harness bundle (harness.tsx): unlike the plugin's build, React and @grafana/* are bundled, since no
 * Grafana provides them. Development mode (no minification: the bundle is built for one run and thrown away).
 */
import path from 'node:path';
import webpack, { type Configuration } from 'webpack';

const PLUGIN_DIR = path.resolve(__dirname, '..');
const REPO_DIR = path.resolve(PLUGIN_DIR, '..');

/** Style sheets @grafana/ui imports for their side effects; the harness page links them instead (see server). */
export const STYLE_SHEETS: Record<string, string> = {
  'uPlot.min.css': require.resolve('uplot/dist/uPlot.min.css'),
  'react-data-grid.css': require.resolve('@grafana/react-data-grid/lib/styles.css'),
};

export function harnessConfig(outputDir: string): Configuration {
  return {
    mode: 'development',
    devtool: false,
    target: 'web',
    context: PLUGIN_DIR,
    entry: path.join(__dirname, 'harness.tsx'),
    output: { path: outputDir, filename: 'harness.js' },
    resolve: {
      extensions: ['.tsx', '.ts', '.mjs', '.js', '.json'],
      alias: {
        '@kappie/collector/catalog': path.join(REPO_DIR, 'collector/src/catalog.ts'),
        '@kappie/collector/drop-reason-classes': path.join(REPO_DIR, 'collector/src/drop-reason-classes.ts'),
        '@kappie/dashboards/queries': path.join(REPO_DIR, 'dashboards/src/queries.ts'),
        '@kappie/dashboards/platforms': path.join(REPO_DIR, 'dashboards/src/platforms.ts'),
        '@kappie/dashboards/layouts': path.join(REPO_DIR, 'dashboards/src/layouts.ts'),
        '@kappie/dashboards/variables': path.join(REPO_DIR, 'dashboards/src/variables.ts'),
        // Grafana installs its page frame with this setter, which @grafana/runtime does not export publicly.
        'grafana-runtime-plugin-page': path.join(
          path.dirname(require.resolve('@grafana/runtime')),
          '..',
          'esm',
          'components',
          'PluginPage.mjs',
        ),
      },
    },
    module: {
      rules: [
        {
          test: /\.tsx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                parser: { syntax: 'typescript', tsx: true },
                target: 'es2022',
                transform: { react: { runtime: 'automatic', development: false } },
              },
            },
          },
        },
        // @grafana/ui's .mjs files import CommonJS packages' default exports (react-custom-scrollbars-2): with
        // webpack's strict ESM rules for .mjs the default is the whole exports object, so they are treated as
        // auto modules, where `__esModule` interop applies.
        { test: /\.m?js$/, type: 'javascript/auto', resolve: { fullySpecified: false } },
        { test: /\.css$/, type: 'asset/source' },
      ],
    },
    plugins: [new webpack.DefinePlugin({ 'process.env.NODE_ENV': JSON.stringify('production') })],
    performance: { hints: false },
  };
}
