/**
 * The Azure Monitor managed Prometheus rule groups template (deploy/azure/prometheus-rule-groups.json): regenerated
 * from rules.ts it is the committed file; it is valid against a JSON schema written from Microsoft's documented
 * resource shape (prometheus-rule-groups-template.schema.json, API version 2023-03-01, checked with ajv); and it holds
 * every Kappie rule once, with the expression of the Prometheus rule files.
 *
 * Not exercised here: deploying it (`az deployment group create`, no Azure) and Azure evaluating the rules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import {
  AZURE_RULE_GROUPS_FILE,
  AZURE_SEVERITY,
  armLiteral,
  azureRuleGroupsTemplate,
  azureRuleGroupsTemplateObject,
  isoDuration,
} from '../../src/azure-rule-groups';
import { ALERT_RULES, RECORDING_RULES } from '../../src/rules';
import { DEPLOY_ROOT } from '../helpers/paths';

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON */
type Any = any;

const TEMPLATE_FILE = path.join(DEPLOY_ROOT, AZURE_RULE_GROUPS_FILE);
const SCHEMA = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'prometheus-rule-groups-template.schema.json'), 'utf8'),
) as object;
const committed = JSON.parse(fs.readFileSync(TEMPLATE_FILE, 'utf8')) as Any;

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(SCHEMA);
function schemaErrors(template: unknown): string[] {
  return validate(template) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe('deploy/azure/prometheus-rule-groups.json', () => {
  it('is what deploy/src/azure-rule-groups.ts generates (run `npm run generate -w deploy` after changing rules)', () => {
    expect(fs.readFileSync(TEMPLATE_FILE, 'utf8')).toBe(azureRuleGroupsTemplate());
  });

  it('is valid against the schema of Microsoft.AlertsManagement/prometheusRuleGroups 2023-03-01', () => {
    expect(schemaErrors(committed)).toEqual([]);
  });

  it.each<[string, (template: Any) => void, RegExp]>([
    [
      'a misspelt rule property',
      (t) => (t.resources[2].properties.rules[0].expresion = 'up'),
      /must NOT have additional/,
    ],
    ['a severity above 4', (t) => (t.resources[2].properties.rules[0].severity = 5), /must be <= 4/],
    ['an interval under a minute', (t) => (t.resources[0].properties.interval = 'PT30S'), /interval must match/],
    [
      'a Prometheus duration in `for`',
      (t) => (t.resources[2].properties.rules[0].for = '5m'),
      /must match format "duration"/,
    ],
    [
      'a rule without expression',
      (t) => delete t.resources[0].properties.rules[0].expression,
      /must have required property/,
    ],
    ['no scopes', (t) => delete t.resources[0].properties.scopes, /must have required property 'scopes'/],
    [
      'another API version',
      (t) => (t.resources[0].apiVersion = '2021-07-22-preview'),
      /apiVersion must be equal to constant/,
    ],
  ])('the schema rejects %s (the check can fail)', (_what, mutate, message) => {
    const broken = structuredClone(committed);
    mutate(broken);
    expect(schemaErrors(broken).join('\n')).toMatch(message);
  });

  it('has one rule group resource per Kappie group, restricted to the cluster and the workspace', () => {
    const groups = [...RECORDING_RULES, ...ALERT_RULES];
    expect(committed.resources.map((r: Any) => r.name)).toEqual(
      groups.map((g) => `[format('${g.name}-{0}', parameters('clusterName'))]`),
    );
    for (const resource of committed.resources as Any[]) {
      expect(resource.properties.scopes).toEqual(["[parameters('azureMonitorWorkspaceResourceId')]"]);
      expect(resource.properties.clusterName).toBe("[parameters('clusterName')]");
    }
  });

  it('holds every recording and alert rule once, with the expression of the Prometheus rule files', () => {
    const inTemplate = (committed.resources as Any[]).flatMap((r) => r.properties.rules as Any[]);
    const recording = RECORDING_RULES.flatMap((g) => g.rules);
    const alerts = ALERT_RULES.flatMap((g) => g.rules);
    expect(inTemplate).toHaveLength(recording.length + alerts.length);
    expect(inTemplate.filter((r) => r.record).map((r) => [r.record, r.expression])).toEqual(
      recording.map((r) => [r.record, r.expr]),
    );
    expect(
      inTemplate.filter((r) => r.alert).map((r) => [r.alert, r.expression, r.for, r.severity, r.annotations]),
    ).toEqual(
      alerts.map((r) => [r.alert, r.expr, isoDuration(r.for), AZURE_SEVERITY[r.labels.severity!], r.annotations]),
    );
  });

  it('notifies the action group given as a parameter, or none', () => {
    expect(committed.parameters.actionGroupResourceId.defaultValue).toBe('');
    const alertRules = (committed.resources as Any[])
      .flatMap((r) => r.properties.rules as Any[])
      .filter((r) => r.alert);
    for (const rule of alertRules) expect(rule.actions).toBe("[variables('alertActions')]");
    expect(committed.variables.alertActions).toMatch(/parameters\('actionGroupResourceId'\)/);
  });
});

describe('conversions', () => {
  it.each([
    ['2m', 'PT2M'],
    ['15m', 'PT15M'],
    ['1h30m', 'PT1H30M'],
    ['90s', 'PT90S'],
  ])('Prometheus duration %s is ISO 8601 %s', (duration, iso) => {
    expect(isoDuration(duration)).toBe(iso);
  });

  it.each(['5', '1d', '500ms', 'm5', '5m '])('refuses %j', (duration) => {
    expect(() => isoDuration(duration)).toThrow(/duration|designator/);
  });

  it('escapes a literal that ARM would read as an expression, and nothing else', () => {
    expect(armLiteral('[a] or b')).toBe('[[a] or b');
    expect(armLiteral('sum(x) [5m]')).toBe('sum(x) [5m]');
  });

  it('every alert severity label has an Azure severity', () => {
    const object = azureRuleGroupsTemplateObject();
    expect(object.resources.length).toBe(RECORDING_RULES.length + ALERT_RULES.length);
    for (const rule of ALERT_RULES.flatMap((g) => g.rules)) expect(AZURE_SEVERITY[rule.labels.severity!]).toBeDefined();
  });
});
