/**
 * The Kappie rules as an ARM template of Azure Monitor managed Prometheus rule groups
 * (`Microsoft.AlertsManagement/prometheusRuleGroups`, API version 2023-03-01), from the same source as the Prometheus
 * rule files (rules.ts): one rule group resource per Kappie group, every rule with its expression unchanged.
 *
 * Resource shape: https://learn.microsoft.com/azure/templates/microsoft.alertsmanagement/prometheusrulegroups and the
 * REST specification (azure-rest-api-specs, Microsoft.AlertsManagement/PrometheusRuleGroups/stable/2023-03-01):
 * `scopes` and `rules` required, `expression` required per rule, `severity` 0-4 (alerts only), `for`, `interval` and
 * `timeToResolve` ISO 8601 durations, `interval` between 1 and 15 minutes.
 */
import { ALERT_RULES, RECORDING_RULES, type AlertRule, type RecordingRule, type RuleGroup } from './rules';

/** Where the generated template lives, relative to deploy/. */
export const AZURE_RULE_GROUPS_FILE = 'azure/prometheus-rule-groups.json';
export const RULE_GROUP_API_VERSION = '2023-03-01';
export const RULE_GROUP_TYPE = 'Microsoft.AlertsManagement/prometheusRuleGroups';
/** Azure evaluates a rule group at most once a minute (interval: 1 to 15 minutes). */
export const AZURE_RULE_INTERVAL = 'PT1M';
/** How long an alert's condition must stay false before Azure resolves it. */
export const AZURE_TIME_TO_RESOLVE = 'PT10M';

/**
 * Azure Monitor alert severities (0 Critical, 1 Error, 2 Warning, 3 Informational, 4 Verbose) for the `severity`
 * labels the Kappie alerts use.
 */
export const AZURE_SEVERITY: Readonly<Record<string, number>> = { critical: 0, error: 1, warning: 2, info: 3 };

/**
 * A Prometheus duration (`5m`, `1h30m`, `90s`) as an ISO 8601 duration (`PT5M`, `PT1H30M`, `PT90S`). Throws for
 * units ISO time durations do not carry here (ms, d, w, y) and for anything that is not a duration.
 */
export function isoDuration(duration: string): string {
  const parts = [...duration.matchAll(/(\d+)([a-z]+)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== duration) {
    throw new Error(`"${duration}" is not a Prometheus duration`);
  }
  const designators: Record<string, string> = { h: 'H', m: 'M', s: 'S' };
  return `PT${parts
    .map(([, amount, unit]) => {
      const designator = designators[unit!];
      if (!designator) throw new Error(`"${duration}": unit ${unit} has no ISO 8601 time designator here`);
      return `${Number(amount)}${designator}`;
    })
    .join('')}`;
}

/** A literal string for an ARM template: one starting with `[` would be read as a template expression (`[[` escapes it). */
export function armLiteral(text: string): string {
  return text.startsWith('[') ? `[${text}` : text;
}

const armLiterals = (map: Readonly<Record<string, string>>) =>
  Object.fromEntries(Object.entries(map).map(([key, value]) => [key, armLiteral(value)]));

function recordingRule(rule: RecordingRule) {
  return { record: rule.record, expression: armLiteral(rule.expr), enabled: true };
}

function alertRule(rule: AlertRule) {
  const severity = AZURE_SEVERITY[rule.labels.severity ?? ''];
  if (severity === undefined)
    throw new Error(`${rule.alert}: severity "${rule.labels.severity}" has no Azure severity`);
  return {
    alert: rule.alert,
    expression: armLiteral(rule.expr),
    for: isoDuration(rule.for),
    severity,
    labels: armLiterals(rule.labels),
    annotations: armLiterals(rule.annotations),
    enabled: true,
    resolveConfiguration: { autoResolved: true, timeToResolve: AZURE_TIME_TO_RESOLVE },
    actions: "[variables('alertActions')]",
  };
}

function ruleGroupResource(group: RuleGroup<unknown>, description: string, rules: unknown[]) {
  return {
    type: RULE_GROUP_TYPE,
    apiVersion: RULE_GROUP_API_VERSION,
    name: `[format('${group.name}-{0}', parameters('clusterName'))]`,
    location: "[parameters('location')]",
    properties: {
      description,
      scopes: ["[parameters('azureMonitorWorkspaceResourceId')]"],
      clusterName: "[parameters('clusterName')]",
      enabled: true,
      interval: AZURE_RULE_INTERVAL,
      rules,
    },
  };
}

/** The ARM deployment template (an object; azureRuleGroupsTemplate() is its committed JSON text). */
export function azureRuleGroupsTemplateObject() {
  return {
    $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    metadata: {
      description:
        'Kappie recording and alert rules as Azure Monitor managed Prometheus rule groups. GENERATED from ' +
        'deploy/src/rules.ts by deploy/src/azure-rule-groups.ts: do not edit; run `npm run generate -w deploy`.',
    },
    parameters: {
      azureMonitorWorkspaceResourceId: {
        type: 'string',
        metadata: { description: 'Resource ID of the Azure Monitor workspace the cluster sends its metrics to.' },
      },
      clusterName: {
        type: 'string',
        metadata: {
          description:
            'The cluster whose data the rules evaluate: the AKS cluster name, or cluster_alias when ama-metrics sets one.',
        },
      },
      location: {
        type: 'string',
        defaultValue: '[resourceGroup().location]',
        metadata: { description: "The rule groups' region: the Azure Monitor workspace's region." },
      },
      actionGroupResourceId: {
        type: 'string',
        defaultValue: '',
        metadata: { description: 'Resource ID of an action group to notify when an alert fires; empty: none.' },
      },
    },
    variables: {
      alertActions:
        "[if(empty(parameters('actionGroupResourceId')), json('[]'), createArray(createObject('actionGroupId', parameters('actionGroupResourceId'))))]",
    },
    resources: [
      ...RECORDING_RULES.map((group) =>
        ruleGroupResource(group, `Kappie recording rules (${group.name})`, group.rules.map(recordingRule)),
      ),
      ...ALERT_RULES.map((group) =>
        ruleGroupResource(group, `Kappie alert rules (${group.name})`, group.rules.map(alertRule)),
      ),
    ],
  };
}

export function azureRuleGroupsTemplate(): string {
  return `${JSON.stringify(azureRuleGroupsTemplateObject(), null, 2)}\n`;
}
