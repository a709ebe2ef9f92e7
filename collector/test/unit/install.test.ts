/**
 * What a new user meets after the quick start (`npm ci` / `npm start` on a fresh clone): the `kappie` command linked
 * by npm, and no install-script warning from npm 11.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/netns';

function run(command: string, args: readonly string[]) {
  return spawnSync(command, args as string[], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
}

describe('the kappie command in the repository', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'collector', 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };

  it('is a committed file, so npm links it at install, before anything is built', () => {
    // npm silently skips a bin whose file is missing at install time (dist/ is not in a fresh clone).
    const bin = path.posix.join('collector', manifest.bin.kappie!);
    expect(bin.startsWith('collector/dist/')).toBe(false);
    expect(run('git', ['ls-files', '--error-unmatch', bin]).status).toBe(0);
    expect(fs.statSync(path.join(REPO_ROOT, bin)).mode & 0o111).not.toBe(0);
  });

  it('runs through npx from the repository root', () => {
    const result = run('npx', ['--no-install', 'kappie', '--version']);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

const installScripts = run('npm', ['install-scripts', 'ls']);
const describeAllowScripts = installScripts.status === 0 ? describe : describe.skip;
if (installScripts.status !== 0) {
  // eslint-disable-next-line no-console
  console.warn(`skipping the allowScripts check: this npm has no install-scripts command (npm 11.x has it)`);
}

describeAllowScripts('npm install scripts', () => {
  it('are all reviewed in package.json allowScripts, so npm ci prints no warning about them', () => {
    expect(installScripts.stdout.trim()).toBe('No packages with unreviewed install scripts.');
  });
});
