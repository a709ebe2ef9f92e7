/**
 * @jest-environment node
 *
 * Every query the app's pages send, with the variables substituted as Grafana does, is valid PromQL for
 * Prometheus' own parser: `promtool check rules` parses each one as a recording rule, offline.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { allPanels, substitute, variableSelectors } from './plugin-queries';

const VALUES = {
  cluster: '.*',
  os: 'linux|windows',
  node: 'node-a|node-b',
  interface: '.*',
  reason: '.*',
  rateInterval: '1m',
  range: '1h',
};

describe('PromQL of the app pages (promtool check rules)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kappie-plugin-promql-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts every panel query and every variable query selector', () => {
    const record = (id: string) => `kappie_plugin_check:${id.replace(/[^a-zA-Z0-9_]/g, '_')}`;
    const rules = [
      ...allPanels().map(({ id, panel }) => ({ record: record(id), expr: substitute(panel.expr, VALUES) })),
      ...variableSelectors().map(({ name, selector }) => ({
        record: record(`variable.${name}`),
        expr: substitute(selector, VALUES),
      })),
    ];
    const file = join(dir, 'queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'plugin', rules }] }));
    const output = execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
