/**
 * The real production build (`npm run build`: webpack with the create-plugin configuration, then the zip), run once
 * here so a broken bundle fails the suite. Checks what Grafana loads from dist/ and what the signing step needs.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import packageJson from '../package.json';
import sourcePluginJson from '../src/plugin.json';
import { DASHBOARDS_DIR, readBundledDashboards } from '../scripts/dashboards';
import { listFiles, zipName } from '../scripts/package-zip';
import { catalogFindings } from './catalog-rules';
import { pluginJsonErrors } from './plugin-json';

const pluginDir = path.resolve(__dirname, '..');
const id = sourcePluginJson.id;
const zipPath = () => path.join(pluginDir, 'build', zipName(id, packageJson.version));
const dist = path.join(pluginDir, 'dist');
const read = (file: string) => fs.readFileSync(path.join(dist, file), 'utf8');

interface BuiltPluginJson {
  id: string;
  buildMode?: string;
  info: { version: string; updated: string };
  includes: { type: string; name: string; path: string; uid?: string }[];
}

let built: BuiltPluginJson;

beforeAll(() => {
  const result = spawnSync('npm', ['run', 'build'], { cwd: pluginDir, encoding: 'utf8', env: process.env });
  if (result.status !== 0) {
    throw new Error(`npm run build failed (${result.status}):\n${result.stdout}\n${result.stderr}`.slice(-6000));
  }
  built = JSON.parse(read('plugin.json')) as BuiltPluginJson;
}, 600_000);

describe('npm run build', () => {
  it('writes an AMD module.js that takes React, its JSX runtime and @grafana/* from Grafana', () => {
    const module = read('module.js');
    const dependencies = JSON.parse(/define\((\[[^\]]*\])/.exec(module)?.[1] ?? '[]') as string[];
    expect(dependencies).toEqual(
      expect.arrayContaining([
        'react',
        'react-dom',
        'react/jsx-runtime',
        '@grafana/data',
        '@grafana/runtime',
        '@grafana/ui',
      ]),
    );
    // Scenes is bundled (it is not one of the modules Grafana shares with plugins).
    expect(dependencies).not.toContain('@grafana/scenes');
    expect(fs.existsSync(path.join(dist, 'module.js.map'))).toBe(true);
  });

  it('bundles no copy of React (a bundled React 18 JSX runtime breaks on the React 19 of Grafana 13.2+)', () => {
    for (const file of listFiles(dist).filter((name) => name.endsWith('.js'))) {
      expect(read(file)).not.toContain('__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED');
    }
  });

  it('writes dist/plugin.json with the placeholders filled in, valid against the schema', () => {
    expect(built.id).toBe('kappie-network-app');
    expect(built.id).toBe(id);
    expect(built.info.version).toBe(packageJson.version);
    expect(built.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(JSON.stringify(built)).not.toMatch(/%(VERSION|TODAY|PLUGIN_ID)%/);
    expect(built.includes.map((include) => include.path)).toContain('/a/kappie-network-app/overview');
    expect(built.buildMode).toBe('production');
    // create-plugin's build adds buildMode, which the vendored schema revision predates (test/schema/SOURCE.md).
    const { buildMode: _buildMode, ...withoutBuildMode } = built;
    expect(pluginJsonErrors(withoutBuildMode)).toEqual([]);
  });

  it('copies the logo, README, LICENSE and CHANGELOG Grafana and the catalog show', () => {
    for (const file of [sourcePluginJson.info.logos.small, 'README.md', 'LICENSE', 'CHANGELOG.md']) {
      expect(fs.existsSync(path.join(dist, file))).toBe(true);
    }
    expect(read('README.md')).toContain(`Version ${packageJson.version}`);
  });

  it('bundles every generated dashboard into dist/dashboards and lists it in includes', () => {
    const dashboards = readBundledDashboards(DASHBOARDS_DIR);
    const includes = built.includes.filter((include) => include.type === 'dashboard');
    expect(includes.map((include) => include.path)).toEqual(dashboards.map((dashboard) => dashboard.path));
    for (const dashboard of dashboards) expect(read(dashboard.path)).toBe(dashboard.text);
    const bundledFiles = fs.existsSync(path.join(dist, 'dashboards')) ? listFiles(path.join(dist, 'dashboards')) : [];
    expect(bundledFiles).toEqual(dashboards.map((dashboard) => dashboard.file));
  });

  it('packs dist/ into <id>-<version>.zip under a <id>/ folder, ready for signing', () => {
    const entries = unzipSync(new Uint8Array(fs.readFileSync(zipPath())));
    const files = Object.keys(entries).filter((name) => !name.endsWith('/'));
    expect(Object.keys(entries).every((name) => name.startsWith(`${id}/`))).toBe(true);
    expect(files.sort()).toEqual(
      listFiles(dist)
        .map((file) => `${id}/${file}`)
        .sort(),
    );
    expect(Buffer.from(entries[`${id}/plugin.json`] ?? []).toString('utf8')).toBe(read('plugin.json'));
  });
});

describe('the zip, as the plugin validator sees it', () => {
  it('breaks none of the catalog rules and warns of nothing', () => {
    const unpacked = fs.mkdtempSync(path.join(tmpdir(), 'kappie-plugin-zip-'));
    try {
      for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(fs.readFileSync(zipPath()))))) {
        if (name.endsWith('/')) continue;
        fs.mkdirSync(path.dirname(path.join(unpacked, name)), { recursive: true });
        fs.writeFileSync(path.join(unpacked, name), bytes);
      }
      const findings = catalogFindings(unpacked, pluginDir);
      expect(findings.filter((finding) => finding.severity === 'error')).toEqual([]);
      expect(findings.map((finding) => `${finding.analyzer}: ${finding.message}`)).toEqual([]);
    } finally {
      fs.rmSync(unpacked, { recursive: true, force: true });
    }
  });
});
