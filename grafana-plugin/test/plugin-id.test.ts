/**
 * @jest-environment node
 *
 * The app's id follows Grafana's naming convention (`<org>-<name>-<type>`: the plugin validator's pluginname and
 * typesuffix analyzers; the org part must be the Grafana Cloud org slug that signs it), and every file of the
 * repository that names a Kappie app id names this one: provisioning, docker compose, README, tests. A rename that
 * leaves one reference behind makes Grafana refuse to start ("plugin not installed") or load nothing.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pluginJson from '../src/plugin.json';

const REPO = path.resolve(__dirname, '..', '..');
/** A Kappie app id: `kappie-…-app`, standing alone or before a version (`…-app-0.1.0.zip`), not inside a longer name. */
const APP_ID = /\bkappie(?:-[a-z0-9]+)*-app(?=[^\w-]|-\d|$)/gm;

function trackedTextFiles(): string[] {
  const git = spawnSync('git', ['ls-files'], { cwd: REPO, encoding: 'utf8' });
  if (git.status !== 0) throw new Error(`git ls-files failed: ${git.stderr}`);
  return git.stdout
    .split('\n')
    .filter((file) => file && file !== 'package-lock.json' && !/\.(png|jpe?g|gif|ico|zip|gz)$/.test(file));
}

describe('the plugin id', () => {
  it('is <org>-<name>-app, with a name Grafana shows that is not the id', () => {
    expect(pluginJson.id).toMatch(/^[a-z0-9]+-[a-z0-9]+-app$/);
    expect(pluginJson.type).toBe('app');
    expect(pluginJson.name).not.toBe(pluginJson.id);
  });

  it('is the only Kappie app id any file of the repository names', () => {
    const stale: string[] = [];
    let references = 0;
    // This file's own examples of stale ids (last test) are not references.
    const self = path.relative(REPO, __filename);
    for (const file of trackedTextFiles().filter((tracked) => tracked !== self)) {
      let text: string;
      try {
        text = readFileSync(path.join(REPO, file), 'utf8');
      } catch {
        continue; // listed by git but deleted in the working tree
      }
      for (const match of text.matchAll(APP_ID)) {
        references += 1;
        if (match[0] !== pluginJson.id) stale.push(`${file}: ${match[0]}`);
      }
    }
    expect(stale).toEqual([]);
    // Provisioning, compose, README and tests do name it: the search finds references at all.
    expect(references).toBeGreaterThan(10);
  });

  it('recognises the references a rename leaves behind', () => {
    const found = (text: string) => [...text.matchAll(APP_ID)].map((m) => m[0]);
    expect(found('type: kappie-app\n')).toEqual(['kappie-app']);
    expect(found('build/kappie-app-0.1.0.zip')).toEqual(['kappie-app']);
    expect(found('/a/kappie-network-app/overview')).toEqual(['kappie-network-app']);
    expect(found('data-testid="kappie-app-config"')).toEqual([]);
  });
});
