import type { AppPluginMeta, PluginConfigPageProps, PluginMeta } from '@grafana/data';
import { DataSourcePicker, getBackendSrv, locationService } from '@grafana/runtime';
import { Alert, Button, Field, FieldSet } from '@grafana/ui';
import { useMemo, useState } from 'react';
import { lastValueFrom } from 'rxjs';
import type { KappieAppSettings } from '../constants';
import { isPrometheusDatasource, listPrometheusDatasources } from '../datasource';
import { NoDatasource } from './NoDatasource';

export type AppConfigProps = PluginConfigPageProps<AppPluginMeta<KappieAppSettings>>;

/** Grafana's plugin settings API: what the configuration page saves, the same jsonData provisioning sets. */
export async function savePluginSettings(pluginId: string, settings: Partial<PluginMeta<KappieAppSettings>>) {
  await lastValueFrom(
    getBackendSrv().fetch({ url: `/api/plugins/${pluginId}/settings`, method: 'POST', data: settings }),
  );
}

/** The configuration page: enable the app and choose the Prometheus datasource its pages query. */
export default function AppConfig({ plugin }: AppConfigProps) {
  const { id, enabled, pinned, jsonData } = plugin.meta;
  const [datasourceUid, setDatasourceUid] = useState(jsonData?.datasourceUid);
  const [error, setError] = useState<string>();
  const available = useMemo(() => listPrometheusDatasources(), []);

  const save = async (settings: Partial<PluginMeta<KappieAppSettings>>) => {
    try {
      await savePluginSettings(id, settings);
      // Grafana hands plugin settings to the app at load time only: reload so the pages see the new datasource.
      locationService.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : `saving failed: ${JSON.stringify(e)}`);
    }
  };

  return (
    <div data-testid="kappie-app-config">
      {available.length === 0 && <NoDatasource />}
      <FieldSet label="Prometheus">
        <Field
          label="Prometheus datasource"
          description="Where Prometheus (or Azure Monitor managed service for Prometheus) stores the kappie_* metrics."
        >
          <DataSourcePicker
            inputId="kappie-datasource"
            current={datasourceUid ?? null}
            filter={isPrometheusDatasource}
            noDefault
            width={60}
            onChange={(datasource) => setDatasourceUid(datasource.uid)}
          />
        </Field>
        <Button
          data-testid="kappie-save-settings"
          disabled={!datasourceUid}
          onClick={() => save({ enabled: true, pinned: pinned ?? true, jsonData: { ...jsonData, datasourceUid } })}
        >
          {enabled ? 'Save' : 'Enable and save'}
        </Button>
        {enabled && (
          <Button variant="destructive" fill="text" onClick={() => save({ enabled: false, pinned: false, jsonData })}>
            Disable the app
          </Button>
        )}
      </FieldSet>
      {error && (
        <Alert title="Could not save the settings" severity="error">
          {error}
        </Alert>
      )}
    </div>
  );
}
