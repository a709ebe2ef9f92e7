import { Alert, TextLink } from '@grafana/ui';
import { PROMETHEUS_DATASOURCE_TYPES } from '../constants';

export const NO_DATASOURCE_TITLE = 'No Prometheus datasource';

/**
 * What the app shows instead of empty pages when Grafana has no datasource of an accepted type: what to add, and
 * where.
 */
export function NoDatasource({ missingUid }: { missingUid?: string }) {
  return (
    <Alert title={NO_DATASOURCE_TITLE} severity="warning" data-testid="kappie-no-datasource">
      <p>
        Kappie reads the kappie_* metrics from Prometheus, and this Grafana has no datasource of type{' '}
        {PROMETHEUS_DATASOURCE_TYPES.map((type) => `"${type}"`).join(' or ')} that you can query.
        {missingUid ? ` The configured datasource (uid "${missingUid}") does not exist any more.` : ''}
      </p>
      <p>
        Add a Prometheus datasource (or an Azure Monitor managed service for Prometheus datasource) under{' '}
        <TextLink href="/connections/datasources/new" inline>
          Connections → Data sources
        </TextLink>
        , then choose it on the app&apos;s configuration page.
      </p>
    </Alert>
  );
}
