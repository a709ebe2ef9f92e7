/**
 * @jest-environment node
 *
 * The catalog rules (catalog-rules.ts) catch what the plugin validator's analyzers catch: a small plugin written to
 * a temporary folder passes, and each fault, one at a time, is reported by the analyzer that reports it. The real
 * plugin zip is checked in build.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { catalogFindings, imageType, type Finding } from './catalog-rules';

const ID = 'acme-network-app';
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const MIT =
  'MIT License\n\nCopyright (c) 2026 Acme\n\nPermission is hereby granted, free of charge, to any person...\n';
const SOURCE = 'export const plugin = 1;\n';

type Files = Record<string, string | Buffer>;

function pluginJson(overrides: Record<string, unknown> = {}, info: Record<string, unknown> = {}) {
  return JSON.stringify({
    type: 'app',
    name: 'Acme network',
    id: ID,
    info: {
      keywords: ['network'],
      description: 'Network pages',
      author: { name: 'Acme' },
      logos: { small: 'img/logo.svg', large: 'img/logo.svg' },
      screenshots: [{ name: 'Overview', path: 'img/overview.png' }],
      version: '1.2.3',
      updated: '2026-01-01',
      ...info,
    },
    dependencies: { grafanaDependency: '>=12.3.0', plugins: [] },
    ...overrides,
  });
}

function goodZip(): Files {
  return {
    [`${ID}/plugin.json`]: pluginJson(),
    [`${ID}/module.js`]: 'define([],()=>({}))',
    [`${ID}/module.js.map`]: JSON.stringify({
      version: 3,
      sources: [`webpack://${ID}/./module.ts`, `webpack://${ID}/../node_modules/x/index.js`, 'webpack/bootstrap'],
      sourcesContent: [SOURCE, 'third party', 'runtime'],
    }),
    [`${ID}/README.md`]: '# Acme network\n\nPages for network metrics.\n',
    [`${ID}/CHANGELOG.md`]: '# Changelog\n\n## 1.2.3\n',
    [`${ID}/LICENSE`]: MIT,
    [`${ID}/img/logo.svg`]:
      '<svg xmlns="http://www.w3.org/2000/svg"><title>A</title><rect width="1" height="1"/></svg>',
    [`${ID}/img/overview.png`]: PNG,
  };
}

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'kappie-catalog-rules-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

function findings(zip: Files, source: Files = {}): Finding[] {
  const unpacked = path.join(scratch, 'unpacked');
  const sourceDir = path.join(scratch, 'source');
  const write = (root: string, files: Files) => {
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), content);
    }
  };
  write(unpacked, zip);
  write(sourceDir, {
    'package.json': JSON.stringify({ version: '1.2.3' }),
    'src/plugin.json': pluginJson(),
    'src/module.ts': SOURCE,
    ...source,
  });
  return catalogFindings(unpacked, sourceDir);
}
const analyzers = (list: Finding[]) => list.map((f) => `${f.analyzer}:${f.severity}`);

describe('catalog rules', () => {
  it('find nothing in a plugin that follows them', () => {
    expect(findings(goodZip())).toEqual([]);
  });

  it.each<[string, (zip: Files) => Files, Files, string]>([
    ['a zip with two folders', (z) => ({ ...z, 'other/x': 'x' }), {}, 'archive:error'],
    ['a dist/ folder inside', (z) => ({ ...z, [`${ID}/dist/x`]: 'x' }), {}, 'archive:error'],
    [
      'a root folder not named after the id',
      (z) => Object.fromEntries(Object.entries(z).map(([k, v]) => [k.replace(ID, 'acme-app'), v])),
      {},
      'archivename:error',
    ],
    [
      'the name equal to the id',
      (z) => ({ ...z, [`${ID}/plugin.json`]: pluginJson({ name: ID }) }),
      {},
      'pluginname:error',
    ],
    [
      'an id without the type suffix',
      (z) => ({ ...z, [`${ID}/plugin.json`]: pluginJson({ id: 'acme-network' }) }),
      {},
      'typesuffix:error',
    ],
    [
      'an empty small logo',
      (z) => ({ ...z, [`${ID}/plugin.json`]: pluginJson({}, { logos: { small: ' ', large: 'img/logo.svg' } }) }),
      {},
      'logos:error',
    ],
    [
      'a logo path with ./',
      (z) => ({
        ...z,
        [`${ID}/plugin.json`]: pluginJson({}, { logos: { small: './img/logo.svg', large: 'img/logo.svg' } }),
      }),
      {},
      'metadatapaths:error',
    ],
    [
      'a screenshot not in the zip',
      (z) => ({ ...z, [`${ID}/img/overview.png`]: undefined as unknown as string }),
      {},
      'metadatapaths:error',
    ],
    [
      'a screenshot whose content is not its extension',
      (z) => ({ ...z, [`${ID}/img/overview.png`]: 'GIF89a....' }),
      {},
      'screenshots:error',
    ],
    [
      'no screenshots',
      (z) => ({ ...z, [`${ID}/plugin.json`]: pluginJson({}, { screenshots: [] }) }),
      {},
      'screenshots:warning',
    ],
    [
      'an invalid grafanaDependency',
      (z) => ({
        ...z,
        [`${ID}/plugin.json`]: pluginJson({ dependencies: { grafanaDependency: 'twelve', plugins: [] } }),
      }),
      {},
      'grafanadependency:error',
    ],
    [
      'an empty description',
      (z) => ({ ...z, [`${ID}/plugin.json`]: pluginJson({}, { description: '' }) }),
      {},
      'discoverability:warning',
    ],
    [
      'a version other than package.json',
      (z) => z,
      { 'package.json': JSON.stringify({ version: '1.2.4' }) },
      'packagejson:error',
    ],
    ['no README', (z) => ({ ...z, [`${ID}/README.md`]: '' }), {}, 'readme:error'],
    [
      "create-plugin's template README",
      (z) => ({ ...z, [`${ID}/README.md`]: '# Grafana App Plugin Template\n' }),
      {},
      'templatereadme:error',
    ],
    [
      'developer jargon in the README',
      (z) => ({ ...z, [`${ID}/README.md`]: '# A\n\nRun yarn install.\n' }),
      {},
      'jargon:warning',
    ],
    ['no CHANGELOG', (z) => ({ ...z, [`${ID}/CHANGELOG.md`]: ' ' }), {}, 'changelog:warning'],
    [
      'a license that is not an accepted one',
      (z) => ({ ...z, [`${ID}/LICENSE`]: 'All rights reserved.\n' }),
      {},
      'license:error',
    ],
    [
      'a script in an SVG',
      (z) => ({ ...z, [`${ID}/img/logo.svg`]: '<svg><script>alert(1)</script></svg>' }),
      {},
      'unsafesvg:error',
    ],
    [
      'an event handler in an SVG',
      (z) => ({ ...z, [`${ID}/img/logo.svg`]: '<svg onload="x()"><rect/></svg>' }),
      {},
      'unsafesvg:error',
    ],
    ['no module.js', (z) => ({ ...z, [`${ID}/module.js`]: undefined as unknown as string }), {}, 'modulejs:error'],
    [
      'a module.js without its source map',
      (z) => ({ ...z, [`${ID}/module.js.map`]: undefined as unknown as string }),
      {},
      'jsMap:error',
    ],
    [
      'a source map of other sources than the code',
      (z) => z,
      { 'src/module.ts': 'export const plugin = 2;\n' },
      'jsMap:error',
    ],
  ])('report %s', (_what, mutate, source, expected) => {
    const zip = Object.fromEntries(Object.entries(mutate(goodZip())).filter(([, v]) => v !== undefined));
    expect(analyzers(findings(zip, source))).toContain(expected);
  });

  it('tell image types by their bytes, as Go http.DetectContentType does for the accepted ones', () => {
    expect(imageType(PNG)).toBe('image/png');
    expect(imageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(imageType(Buffer.from('GIF89a'))).toBe('image/gif');
    expect(imageType(Buffer.from('<?xml version="1.0"?><svg/>'))).toBe('image/svg+xml');
    expect(imageType(Buffer.from('hello'))).toBeUndefined();
  });
});
