/**
 * provisioning/compose/install-app.sh, the first thing the compose stack runs (service grafana-app-install in a
 * busybox container): run for real, with busybox's sh when this machine has busybox (the shell of the container) and
 * with dash (Debian's sh), against temporary folders standing for grafana-plugin/dist and Grafana's app volume.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', 'compose', 'install-app.sh');
const APP_ID = 'kappie-network-app';

function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}
const shells: [string, string[]][] = [['dash', ['dash']]];
if (hasCommand('busybox')) shells.push(['busybox sh', ['busybox', 'sh']]);
else {
  // eslint-disable-next-line no-console
  console.warn('busybox is not installed: install-app.sh runs with dash only (apt-get install busybox)');
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe.each(shells)('install-app.sh under %s', (_name, shell) => {
  let root: string;
  let build: string;
  let target: string;
  const run = (): Run => {
    const [command = 'sh', ...args] = shell;
    const result = spawnSync(command, [...args, SCRIPT], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, KAPPIE_APP_BUILD: build, KAPPIE_APP_DIR: target, KAPPIE_APP_ID: APP_ID },
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const writeBuild = (files: Record<string, string>) => {
    mkdirSync(build, { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(join(build, file, '..'), { recursive: true });
      writeFileSync(join(build, file), text);
    }
  };
  const pluginJson = (id: string) => JSON.stringify({ type: 'app', id, info: { version: '0.1.0' } }, null, 4);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'kappie-install-app-'));
    build = join(root, 'grafana-plugin', 'dist');
    target = join(root, 'app');
    // grafana-plugin/ is always in the checkout; dist/ only after a build.
    mkdirSync(join(root, 'grafana-plugin'));
    mkdirSync(target);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stops with what to run when grafana-plugin/dist does not exist, and creates nothing', () => {
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('grafana-plugin/dist/plugin.json is missing');
    expect(result.stderr).toContain('npm ci && npm run -w grafana-plugin build');
    expect(result.stderr).toContain('docker compose up -d');
    expect(readdirSync(join(root, 'grafana-plugin'))).toEqual([]);
    expect(readdirSync(target)).toEqual([]);
  });

  it('stops when dist is empty (what an older compose file left behind) or incomplete', () => {
    mkdirSync(build, { recursive: true });
    expect(run().stderr).toContain('plugin.json is missing');
    writeBuild({ 'plugin.json': pluginJson(APP_ID) });
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('module.js is missing');
  });

  it('stops when dist holds the build of another plugin id', () => {
    writeBuild({ 'plugin.json': pluginJson('acme-other-app'), 'module.js': 'define([],()=>({}))' });
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`another plugin id than ${APP_ID}`);
    expect(readdirSync(target)).toEqual([]);
  });

  it('copies the build, replacing a previous copy whole', () => {
    writeFileSync(join(target, 'stale-chunk.js'), 'old');
    writeFileSync(join(target, '.hidden-stale'), 'old');
    writeBuild({
      'plugin.json': pluginJson(APP_ID),
      'module.js': 'define([],()=>({}))',
      'dashboards/overview.json': '{"uid":"kappie-overview"}',
      'img/logo.svg': '<svg/>',
    });
    const result = run();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`kappie: installed the Grafana app ${APP_ID} 0.1.0\n`);
    expect(readdirSync(target).sort()).toEqual(['dashboards', 'img', 'module.js', 'plugin.json']);
    expect(readFileSync(join(target, 'dashboards', 'overview.json'), 'utf8')).toBe('{"uid":"kappie-overview"}');
  });
});
