import { PluginType, type AppPluginMeta } from '@grafana/data';
import { LocationServiceProvider, locationService } from '@grafana/runtime';
import { render } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import App from '../src/components/App';
import { PLUGIN_BASE_URL, PLUGIN_ID, type KappieAppSettings } from '../src/constants';
import { pluginInfo } from './fake-grafana';

/**
 * React Router 7's behaviours, opted into as React Router 6 asks (it warns at every render otherwise): state updates
 * in transitions, and relative paths inside splat routes resolved from the full match. The tests pass the same with
 * them, so the plugin does not depend on the old behaviour.
 */
export const ROUTER_FUTURE = { v7_startTransition: true, v7_relativeSplatPath: true } as const;

export function appMeta(jsonData: KappieAppSettings, enabled = true): AppPluginMeta<KappieAppSettings> {
  return {
    id: PLUGIN_ID,
    name: 'Kappie',
    type: PluginType.app,
    enabled,
    pinned: true,
    jsonData,
    module: `public/plugins/${PLUGIN_ID}/module.js`,
    baseUrl: `public/plugins/${PLUGIN_ID}`,
    info: pluginInfo('Kappie'),
  };
}

/** The app's root component mounted as Grafana mounts it, under /a/kappie-network-app/*, routed at `url`. */
export function AppAtUrl({ url, meta }: { url: string; meta: AppPluginMeta<KappieAppSettings> }) {
  return (
    <MemoryRouter initialEntries={[url]} future={ROUTER_FUTURE}>
      <Routes>
        <Route
          path={`${PLUGIN_BASE_URL}/*`}
          element={
            <App meta={meta} basename={PLUGIN_BASE_URL} path={PLUGIN_BASE_URL} query={{}} onNavChanged={() => {}} />
          }
        />
      </Routes>
    </MemoryRouter>
  );
}

/** Renders the app's root page the way Grafana mounts it: under /a/kappie-network-app/*, at `path`. */
export function renderApp(path: string, jsonData: KappieAppSettings) {
  const meta = appMeta(jsonData);
  const url = `${PLUGIN_BASE_URL}/${path}`;
  // Grafana keeps react-router and its locationService (which Scenes' URL sync uses) on one history.
  locationService.push(url);
  return render(
    <LocationServiceProvider service={locationService}>
      <AppAtUrl url={url} meta={meta} />
    </LocationServiceProvider>,
  );
}
