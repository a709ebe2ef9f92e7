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
