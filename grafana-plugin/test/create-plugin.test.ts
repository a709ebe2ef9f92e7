/**
 * @jest-environment node
 *
 * The app as Grafana's tooling expects it: .config/ is exactly what the real `@grafana/create-plugin` (the version in
 * package.json, installed from npm; its templates are inside the package, so it runs offline) scaffolds for this
 * plugin, `create-plugin update` runs on it, and the plugin validator's build-tools rule holds (grafana/plugin-validator
 * pkg/analysis/passes/buildtools: `.config/webpack/webpack.config.ts` exists and names `@grafana/create-plugin`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import packageJson from '../package.json';
import pluginJson from '../src/plugin.json';
import { listFiles } from '../scripts/package-zip';

const pluginDir = path.resolve(__dirname, '..');
const createPluginBin = require.resolve('@grafana/create-plugin/dist/bin/run.js');
const createPluginVersion = (
  JSON.parse(readFileSync(require.resolve('@grafana/create-plugin/package.json'), 'utf8')) as { version: string }
).version;

function createPlugin(args: string[], cwd: string) {
  return spawnSync(process.execPath, [createPluginBin, ...args], {
    cwd,
    encoding: 'utf8',
    // Offline: the templates are in the package; nothing may come from the network.
    env: { ...process.env, npm_config_offline: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
  });
}

/** What create-plugin asks for, from the plugin id (`<org>-<name>-app`) and the pages (Scenes). */
function scaffoldAnswers(id: string): string[] {
  const match = /^([a-z0-9]+)-([a-z0-9]+)-app$/.exec(id);
  if (!match) throw new Error(`plugin id ${id} is not <org>-<name>-app`);
  return ['--plugin-type=scenesapp', `--org-name=${match[1]}`, `--plugin-name=${match[2]}`, '--no-backend'];
}

describe('@grafana/create-plugin', () => {
  it('is pinned in package.json, and .config/.cprc.json records that version', () => {
    expect(packageJson.devDependencies['@grafana/create-plugin']).toBe(createPluginVersion);
    const cprc = JSON.parse(readFileSync(path.join(pluginDir, '.config', '.cprc.json'), 'utf8')) as { version: string };
    expect(cprc.version).toBe(createPluginVersion);
  });

  it('`create-plugin update` runs on the app (nothing to update at the scaffolded version)', () => {
    const result = createPlugin(['update', '--force'], pluginDir);
    expect(result.stderr).not.toMatch(/Error|Invalid Version/);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Nothing to update');
  });

  it('.config/ is exactly what create-plugin scaffolds for this plugin (no hand edits: extend it outside)', () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'kappie-create-plugin-'));
    try {
      const result = createPlugin(scaffoldAnswers(pluginJson.id), scratch);
      expect(result.status).toBe(0);
      const generated = path.join(scratch, pluginJson.id);
      const generatedConfig = path.join(generated, '.config');
      const ours = path.join(pluginDir, '.config');
      expect(listFiles(ours)).toEqual(listFiles(generatedConfig));
      for (const file of listFiles(generatedConfig)) {
        expect({ file, text: readFileSync(path.join(ours, file), 'utf8') }).toEqual({
          file,
          text: readFileSync(path.join(generatedConfig, file), 'utf8'),
        });
      }
      // The project-level feature flags create-plugin reads (bundler, Grafana UI bundling) are its defaults too.
      expect(JSON.parse(readFileSync(path.join(pluginDir, '.cprc.json'), 'utf8'))).toEqual(
        JSON.parse(readFileSync(path.join(generated, '.cprc.json'), 'utf8')),
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);

  it("passes the plugin validator's build-tools rule, and the build extends the scaffolded webpack config", () => {
    const scaffolded = readFileSync(path.join(pluginDir, '.config', 'webpack', 'webpack.config.ts'), 'utf8');
    expect(scaffolded).toContain('@grafana/create-plugin');
    const ours = readFileSync(path.join(pluginDir, 'webpack.config.ts'), 'utf8');
    expect(ours).toMatch(/from '\.\/\.config\/webpack\/webpack\.config'/);
    expect(packageJson.scripts.build).toMatch(/^webpack -c \.\/webpack\.config\.ts --env production/);
    expect(packageJson.scripts.dev).toMatch(/^webpack -w -c \.\/webpack\.config\.ts --env development/);
  });
});
