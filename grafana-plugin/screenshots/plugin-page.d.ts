/**
 * @grafana/runtime's page frame setter (src/components/PluginPage.tsx in grafana/grafana), which Grafana calls at
 * start and the package does not export publicly; webpack.config.ts aliases this name to its module.
 */
declare module 'grafana-runtime-plugin-page' {
  import type { ComponentType } from 'react';
  import type { PluginPageProps } from '@grafana/runtime';
  export function setPluginPage(component: ComponentType<PluginPageProps>): void;
}
