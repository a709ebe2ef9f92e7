import type { DataSourceRef } from '@grafana/schema';
import { SceneApp, SceneAppPage } from '@grafana/scenes';
import { ROUTES, prefixRoute } from '../constants';
import { PAGES, PAGE_KEYS } from '../queries/panels';
import { pageScene } from './page';

/** The app's four pages (Overview, Drops, TCP, Interfaces), all querying `datasource`. */
export function kappieSceneApp(datasource: DataSourceRef): SceneApp {
  return new SceneApp({
    pages: PAGE_KEYS.map((key) => {
      const page = PAGES[key];
      return new SceneAppPage({
        title: page.title,
        subTitle: page.subTitle,
        url: prefixRoute(ROUTES[key]),
        routePath: `${ROUTES[key]}/*`,
        getScene: () => pageScene(page, datasource),
      });
    }),
    urlSyncOptions: { updateUrlOnInit: true, createBrowserHistorySteps: true },
  });
}
