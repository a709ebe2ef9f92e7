/**
 * The Kappie rules as a Prometheus Operator `PrometheusRule` (monitoring.coreos.com/v1): the same groups as
 * deploy/prometheus/rules/*.yml, from the same source (rules.ts), for the prometheus-operator overlay.
 */
import { stringify } from 'yaml';
import { ALERT_RULES, RECORDING_RULES } from './rules';

/** Where the generated manifest lives, relative to deploy/. */
export const PROMETHEUS_RULE_FILE = 'kubernetes/overlays/prometheus-operator/prometheusrule.yaml';

/** The PrometheusRule object: metadata.name `kappie`; the overlay sets its namespace and the `release` label. */
export function prometheusRuleObject() {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'kappie',
      labels: { 'app.kubernetes.io/name': 'kappie' },
    },
    spec: { groups: [...RECORDING_RULES, ...ALERT_RULES] },
  };
}

export function prometheusRuleManifest(): string {
  return (
    '# The Kappie recording and alert rules for the Prometheus Operator. GENERATED from deploy/src/rules.ts\n' +
    '# (metric and label names come from the catalog): do not edit; run `npm run generate -w deploy`.\n' +
    stringify(prometheusRuleObject(), { lineWidth: 0 })
  );
}
