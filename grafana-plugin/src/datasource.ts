/**
 * Which Prometheus datasource the pages query: the one chosen on the configuration page (jsonData.datasourceUid),
 * else Grafana's default datasource when it is a Prometheus one, else the first Prometheus datasource.
 */
import type { DataSourceInstanceSettings } from '@grafana/data';
import { getDataSourceSrv } from '@grafana/runtime';
import { PROMETHEUS_DATASOURCE_TYPES } from './constants';

export function isPrometheusDatasource(datasource: Pick<DataSourceInstanceSettings, 'type'>): boolean {
  return PROMETHEUS_DATASOURCE_TYPES.includes(datasource.type);
}

/** Every datasource of an accepted Prometheus type the signed-in user can see. */
export function listPrometheusDatasources(): DataSourceInstanceSettings[] {
  return getDataSourceSrv().getList({ filter: isPrometheusDatasource });
}

export type DatasourceChoice =
  | { kind: 'configured'; datasource: DataSourceInstanceSettings; missingUid?: undefined }
  /** Nothing configured, or the configured uid no longer exists: a fallback, with the missing uid if there was one. */
  | { kind: 'fallback'; datasource: DataSourceInstanceSettings; missingUid?: string }
  | { kind: 'none'; missingUid?: string };

export function chooseDatasource(
  configuredUid: string | undefined,
  available: readonly DataSourceInstanceSettings[],
): DatasourceChoice {
  const configured = configuredUid ? available.find((ds) => ds.uid === configuredUid) : undefined;
  if (configured) return { kind: 'configured', datasource: configured };
  const missingUid = configuredUid || undefined;
  const fallback = available.find((ds) => ds.isDefault) ?? available[0];
  if (!fallback) return { kind: 'none', missingUid };
  return { kind: 'fallback', datasource: fallback, missingUid };
}
