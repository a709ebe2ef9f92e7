import type { DataSourceRef } from '@grafana/schema';
import { SceneApp, SceneAppPage } from '@grafana/scenes';
import { ROUTES, prefixRoute } from '../constants';
import { pageScene } from './page';
import { PAGES } from './pages';

/** The app's four pages (Overview, Drops, TCP, Interfaces), all querying `datasource`. */
export function kappieSceneApp(datasource: DataSourceRef): SceneApp {
  return new SceneApp({
    pages: PAGES.map(
      (page) =>
        new SceneAppPage({
          title: page.title,
          subTitle: page.subTitle,
          url: prefixRoute(ROUTES[page.key]),
          routePath: `${ROUTES[page.key]}/*`,
          getScene: () => pageScene(page, datasource),
        }),
    ),
    urlSyncOptions: { updateUrlOnInit: true, createBrowserHistorySteps: true },
  });
}
