/**
 * Every file generated from the rules (rules.ts) and committed: the Prometheus rule files, the Prometheus Operator
 * PrometheusRule and the Azure rule groups template. A test fails while any committed file differs from what this
 * returns; `npm run generate -w deploy` rewrites them.
 */
import { AZURE_RULE_GROUPS_FILE, azureRuleGroupsTemplate } from './azure-rule-groups';
import { PROMETHEUS_RULE_FILE, prometheusRuleManifest } from './prometheus-operator-rules';
import { generatedRuleFiles } from './rules';

/** Path relative to deploy/, and content. */
export function generatedFiles(): { file: string; content: string }[] {
  return [
    ...generatedRuleFiles(),
    { file: PROMETHEUS_RULE_FILE, content: prometheusRuleManifest() },
    { file: AZURE_RULE_GROUPS_FILE, content: azureRuleGroupsTemplate() },
  ];
}
