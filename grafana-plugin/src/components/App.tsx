import type { AppRootProps } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import { Alert } from '@grafana/ui';
import { useMemo } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { ROUTES, prefixRoute, type KappieAppSettings } from '../constants';
import { chooseDatasource, listPrometheusDatasources } from '../datasource';
import { kappieSceneApp } from '../scenes/app';
import { NoDatasource } from './NoDatasource';

/** The app's root page: picks the Prometheus datasource, then hands routing to the Scenes app. */
export default function App({ meta }: AppRootProps<KappieAppSettings>) {
  const choice = useMemo(() => chooseDatasource(meta.jsonData?.datasourceUid, listPrometheusDatasources()), [meta]);
  const datasource = choice.kind === 'none' ? undefined : choice.datasource;
  const scene = useMemo(
    () => (datasource ? kappieSceneApp({ uid: datasource.uid, type: datasource.type }) : undefined),
    [datasource],
  );

  if (!scene || choice.kind === 'none') {
    return (
      <PluginPage>
        <NoDatasource missingUid={choice.missingUid} />
      </PluginPage>
    );
  }
  return (
    <>
      {choice.kind === 'fallback' && (
        <Alert title="Datasource not configured" severity="info" data-testid="kappie-datasource-fallback">
          {choice.missingUid
            ? `The configured datasource (uid "${choice.missingUid}") does not exist; `
            : 'No datasource is chosen on the configuration page; '}
          showing &quot;{choice.datasource.name}&quot;.
        </Alert>
      )}
      <Routes>
        <Route path="" element={<Navigate to={prefixRoute(ROUTES.overview)} replace />} />
        <Route path="*" element={<scene.Component model={scene} />} />
      </Routes>
    </>
  );
}
