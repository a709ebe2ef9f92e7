import type { Configuration, ExternalItemFunctionData } from 'webpack';

/**
 * Modules Grafana provides to plugins at run time (through SystemJS): never bundled, so the plugin shares Grafana's
 * single React, @grafana/* and rxjs instances. `react/jsx-runtime` is shared too: a bundled React 18 JSX runtime
 * breaks on Grafana 13.2+ (React 19), and Grafana provides it to plugins from 12.3 on, hence `grafanaDependency`.
 */
export const externals: Configuration['externals'] = [
  // Required for dynamic publicPath resolution
  { 'amd-module': 'module' },
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react-dom',
  'react/jsx-runtime',
  'react/jsx-dev-runtime',
  'react-redux',
  'redux',
  'rxjs',
  'i18next',
  'react-router',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
  // Legacy SDK imports with the "grafana/" prefix resolve to Grafana's own modules.
  ({ request }: ExternalItemFunctionData, callback: (error?: Error, result?: string) => void) => {
    const prefix = 'grafana/';
    if (request && request.startsWith(prefix)) return callback(undefined, request.slice(prefix.length));
    callback();
  },
];
