/**
 * Every dashboard query, with its variables substituted, is valid PromQL for Prometheus' own parser: `promtool
 * check rules` parses each one as a recording rule, offline. (The stack test then runs them against a live
 * Prometheus scraping the collector.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { allQueries, substituteVariables, VARIABLE_QUERIES } from '../src';

const VALUES = {
  cluster: '.*',
  os: '.*',
  node: 'node-a|node-b',
  interface: '.*',
  reason: '.*',
  rateInterval: '1m',
  range: '1h',
};

describe('PromQL syntax (promtool check rules)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kappie-promql-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts every panel query and every variable query selector', () => {
    const rules = allQueries().map(({ id, query }) => ({
      record: `kappie_dashboard_check:${id.replace('.', '_')}`,
      expr: substituteVariables(query.expr, VALUES),
    }));
    // label_values(selector, label) is Grafana's, not PromQL: check the selector inside it.
    for (const [name, query] of Object.entries(VARIABLE_QUERIES)) {
      const selector = /^label_values\((.*), \w+\)$/.exec(query)?.[1];
      expect(selector).toBeDefined();
      rules.push({ record: `kappie_dashboard_check:variable_${name}`, expr: substituteVariables(selector!, VALUES) });
    }
    const file = join(dir, 'queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules }] }));
    const output = execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
