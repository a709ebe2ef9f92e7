import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { METRICS, METRIC_KEYS, metricName } from '../../src/catalog';
import { buildProgram } from '../../src/cli';
import { OPTIONS } from '../../src/config';
import { renderReadme } from '../../src/docs/readme-tables';

const readmePath = path.join(__dirname, '..', '..', '..', 'README.md');

describe('README', () => {
  const readme = fs.readFileSync(readmePath, 'utf8');

  it('has current generated metric and configuration tables (run `npm run docs` when this fails)', () => {
    expect(readme).toBe(renderReadme(readme));
  });

  it("asks for the Node.js version package.json's engines require, wherever it names one", () => {
    const packageJson = JSON.parse(fs.readFileSync(path.join(readmePath, '..', 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    const required = /^>=(\d+(\.\d+)*)$/.exec(packageJson.engines.node)![1];
    const named = [...readme.matchAll(/Node\.js (\d+(\.\d+)*) or newer/g)].map((match) => match[1]);
    expect(named.length).toBeGreaterThan(0);
    expect(named).toEqual(named.map(() => required));
  });

  it('says in the quick start what a new user meets: the hold of new drop reasons, the log, signals', () => {
    const quickStart = readme.slice(
      readme.indexOf('## Quick start'),
      readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1),
    );
    expect(quickStart).toMatch(/first seen after the collector started read 0 on \/metrics for `--new-series-hold`/);
    expect(quickStart).toContain('(#counter-series-that-appear-while-the-collector-runs)');
    expect(readme).toContain('#### Counter series that appear while the collector runs');
    expect(quickStart).toMatch(/The log is JSON lines on stderr \(pino/);
    expect(quickStart).toContain('`node collector/dist/cli.js serve`');
    expect(quickStart).toMatch(/Not `npx kappie serve`: npm exec does not forward SIGTERM/);
  });

  it('names every catalog metric and every option', () => {
    for (const key of METRIC_KEYS) expect(readme).toContain(`\`${metricName(METRICS[key])}\``);
    for (const spec of OPTIONS) expect(readme).toContain(`--${spec.flag}`);
  });

  it('lists every command of the command line under Commands', () => {
    const commands = readme.slice(
      readme.indexOf('### Commands'),
      readme.indexOf('\n### ', readme.indexOf('### Commands') + 1),
    );
    const names = (command: Command, prefix: string): string[] =>
      command.commands.flatMap((sub) => {
        const name = `${prefix} ${sub.name()}`;
        return sub.commands.length > 0 ? names(sub, name) : [name];
      });
    const all = names(buildProgram(), 'kappie');
    expect(all).toContain('kappie dashboards push');
    for (const name of all) expect(commands).toContain(`\`${name}`);
  });

  it('keeps the quick start to the two commands', () => {
    expect(readme).toMatch(/## Quick start[\s\S]*```sh\nnpm start\n```[\s\S]*```sh\nnpm test\n```/);
  });
});
