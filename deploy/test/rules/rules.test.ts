/**
 * The generated Prometheus rules: committed files match deploy/src/rules.ts, every name in every expression is a
 * catalog name, promtool accepts the files, and promtool's rule unit tests pass.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LABEL, METRICS, METRIC_KEYS, metricName } from '@kappie/collector/catalog';
import { DROP_CLASS_LABEL } from '@kappie/collector/drop-reason-classes';
import { stringify } from 'yaml';
import { generatedFiles } from '../../src/generated-files';
import { ALERT_RULES, ANNOTATION_LABELS, RECORDED, RECORDING_RULES } from '../../src/rules';
import { DEPLOY_ROOT, RULE_FILES } from '../helpers/paths';
import { describePromtool, promtool } from '../helpers/promtool';
import { promqlNames } from '../helpers/promql-names';
import { promtoolTests } from './promtool-cases';

const UPDATE = process.env.KAPPIE_UPDATE_GENERATED === '1';

describe('generated files (rule files, PrometheusRule, Azure rule groups template)', () => {
  it.each(generatedFiles().map((g) => [g.file, g.content]))('%s is up to date', (file, content) => {
    const target = path.join(DEPLOY_ROOT, file);
    if (UPDATE) fs.writeFileSync(target, content);
    const committed = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '(missing)';
    if (committed !== content) {
      throw new Error(`${file} is stale: run \`npm run generate -w deploy\` and commit the result`);
    }
  });
});

describe('names in rule expressions', () => {
  const catalogNames = new Set(METRIC_KEYS.map((key) => metricName(METRICS[key])));
  const recordedNames = new Set(Object.values(RECORDED));
  // drop_class is the label the rules compute from `reason` (collector/src/drop-reason-classes.ts).
  const labelNames = new Set<string>([
    ...Object.values(LABEL),
    DROP_CLASS_LABEL,
    'job',
    'instance',
    '__name__',
    'alertname',
  ]);
  const rules = [
    ...RECORDING_RULES.flatMap((g) => g.rules.map((r) => ({ name: r.record, expr: r.expr }))),
    ...ALERT_RULES.flatMap((g) => g.rules.map((r) => ({ name: r.alert, expr: r.expr }))),
  ];

  it.each(rules.map((r) => [r.name, r.expr]))('%s uses only catalog metrics and labels', (_name, expr) => {
    const names = promqlNames(expr);
    expect(names.metrics.length).toBeGreaterThan(0);
    for (const metric of names.metrics) {
      const known = catalogNames.has(metric) || recordedNames.has(metric) || metric === 'up';
      expect(known ? metric : `${metric} (not in the catalog)`).toBe(metric);
    }
    for (const label of names.labels) expect(labelNames.has(label) ? label : `${label} (not a label)`).toBe(label);
  });

  it('every recorded series is derived from a catalog metric', () => {
    for (const name of recordedNames) {
      const metric = name.split(':')[1]!;
      expect(catalogNames.has(metric) || [...catalogNames].some((c) => metric.startsWith(`${c}_`))).toBe(true);
    }
  });

  it('annotations only name catalog labels', () => {
    for (const rule of ALERT_RULES.flatMap((g) => g.rules)) {
      for (const text of Object.values(rule.annotations)) {
        for (const match of text.matchAll(/\$labels\.(\w+)/g)) {
          const label = match[1]!;
          const known = (ANNOTATION_LABELS as readonly string[]).includes(label) || label === 'instance';
          expect(known ? label : `${label} in ${rule.alert}`).toBe(label);
        }
      }
    }
  });
});

describePromtool('promtool', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-promtool-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('check rules accepts every rule file', () => {
    expect(promtool('check', 'rules', ...RULE_FILES)).toMatch(/SUCCESS/);
  });

  it('test rules: recordings and alerts behave on recorded input series', () => {
    const testFile = path.join(dir, 'kappie-rules.test.yml');
    fs.writeFileSync(
      testFile,
      stringify({ rule_files: RULE_FILES, evaluation_interval: '1m', tests: promtoolTests() }, { lineWidth: 0 }),
    );
    expect(promtool('test', 'rules', testFile)).toMatch(/SUCCESS/);
  });
});
