import { AppPlugin, type AppRootProps } from '@grafana/data';
import { initPluginTranslations } from '@grafana/i18n';
import { loadResources } from '@grafana/scenes';
import { LoadingPlaceholder } from '@grafana/ui';
import { Suspense, lazy } from 'react';
import type { AppConfigProps } from './components/AppConfig';
import { PLUGIN_ID, type KappieAppSettings } from './constants';

// Scenes' own texts (time picker, variable selectors) come from its bundled translations, registered once.
const translations = initPluginTranslations(PLUGIN_ID, [loadResources]);

// Code-split: Grafana loads module.js for every app page and the plugin list; the pages load on first use.
const LazyApp = lazy(async () => {
  await translations;
  return import('./components/App');
});
const LazyAppConfig = lazy(async () => {
  await translations;
  return import('./components/AppConfig');
});

function App(props: AppRootProps<KappieAppSettings>) {
  return (
    <Suspense fallback={<LoadingPlaceholder text="Loading Kappie" />}>
      <LazyApp {...props} />
    </Suspense>
  );
}

function AppConfig(props: AppConfigProps) {
  return (
    <Suspense fallback={<LoadingPlaceholder text="Loading" />}>
      <LazyAppConfig {...props} />
    </Suspense>
  );
}

export const plugin = new AppPlugin<KappieAppSettings>().setRootPage(App).addConfigPage({
  title: 'Configuration',
  icon: 'cog',
  body: AppConfig,
  id: 'configuration',
});
