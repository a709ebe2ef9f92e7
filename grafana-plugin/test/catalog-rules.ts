/**
 * The rules Grafana's plugin validator applies to a catalog submission that can be stated without its binary, each
 * modelled on the validator's analyzer of the same name (grafana/plugin-validator 0.45.6, pkg/analysis/passes/<name>)
 * and run on the unpacked plugin zip plus the plugin's source folder. The validator itself is a Go program that the
 * npm package @grafana/plugin-validator downloads from GitHub releases on first run, which this machine cannot reach;
 * what only it can check (the grafana.com org and publication status, broken links, osv-scanner, semgrep, virus scan,
 * third-party source maps, the signature's validity) is listed in the README as the maintainer's part.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { pluginJsonErrors } from './plugin-json';

export type Severity = 'error' | 'warning';

/** One finding: the validator analyzer that reports it, how bad, and what is wrong. */
export interface Finding {
  readonly analyzer: string;
  readonly severity: Severity;
  readonly message: string;
}

interface PluginJson {
  id: string;
  type: string;
  name: string;
  buildMode?: string;
  info: {
    description?: string;
    keywords?: string[];
    version: string;
    logos: { small: string; large: string };
    screenshots?: { name: string; path: string }[];
  };
  dependencies: { grafanaDependency: string };
}

const readText = (file: string) => readFileSync(file, 'utf8');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

/**
 * Image type from the first bytes, as Go's http.DetectContentType sees the types the screenshots analyzer accepts
 * (PNG, JPEG, GIF signatures; SVG as text containing `<svg`).
 */
export function imageType(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return 'image/jpeg';
  if (/^GIF8[79]a/.test(bytes.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (bytes.subarray(0, 512).toString('utf8').includes('<svg')) return 'image/svg+xml';
  return undefined;
}
const TYPE_BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
};

/** SVG elements a plugin logo needs; the unsafesvg analyzer allows a list of safe elements and attributes. */
const SAFE_SVG_ELEMENTS = new Set([
  'svg',
  'title',
  'desc',
  'g',
  'defs',
  'rect',
  'circle',
  'ellipse',
  'line',
  'polyline',
  'polygon',
  'path',
  'text',
  'tspan',
  'lineargradient',
  'radialgradient',
  'stop',
  'clippath',
  'mask',
]);

/** The archive layout: one folder named after the plugin id, no `dist/` in it (archive, archivename). */
function archiveLayout(unpacked: string, id: string): { root?: string; findings: Finding[] } {
  const entries = readdirSync(unpacked);
  if (entries.length !== 1) {
    return {
      findings: [{ analyzer: 'archive', severity: 'error', message: `${entries.length} entries at the zip root` }],
    };
  }
  const root = path.join(unpacked, entries[0] as string);
  const findings: Finding[] = [];
  if (!statSync(root).isDirectory())
    findings.push({ analyzer: 'archive', severity: 'error', message: 'no root folder' });
  if (existsSync(path.join(root, 'dist'))) {
    findings.push({ analyzer: 'archive', severity: 'error', message: 'dist/ inside the archive folder' });
  }
  if (entries[0] !== id) {
    findings.push({ analyzer: 'archivename', severity: 'error', message: `root folder ${entries[0]}, not ${id}` });
  }
  return { root, findings };
}

function metadataFindings(meta: PluginJson): Finding[] {
  const findings: Finding[] = [];
  const add = (analyzer: string, severity: Severity, message: string) => findings.push({ analyzer, severity, message });
  // The vendored schema predates the buildMode field create-plugin's build adds (test/schema/SOURCE.md).
  const { buildMode: _buildMode, ...withoutBuildMode } = meta;
  for (const error of pluginJsonErrors(withoutBuildMode)) add('metadatavalid', 'error', `plugin.json ${error}`);
  if (meta.name === meta.id) add('pluginname', 'error', 'plugin name equals the id: it should be human-friendly');
  const idParts = meta.id.split('-');
  if (idParts.length < 3) add('pluginname', 'warning', `id ${meta.id} is not <org>-<name>-<type>`);
  if (idParts[idParts.length - 1] !== meta.type)
    add('typesuffix', 'error', `id ${meta.id} does not end in ${meta.type}`);
  if (!meta.info.logos.small.trim()) add('logos', 'error', 'empty small logo path');
  if (!meta.info.logos.large.trim()) add('logos', 'error', 'empty large logo path');
  if (semver.validRange(meta.dependencies.grafanaDependency) === null) {
    add('grafanadependency', 'error', `invalid grafanaDependency ${meta.dependencies.grafanaDependency}`);
  }
  if (semver.valid(meta.info.version) === null) add('version', 'error', `invalid version ${meta.info.version}`);
  if (!meta.info.description?.trim()) add('discoverability', 'warning', 'empty description');
  if (!meta.info.keywords?.length) add('discoverability', 'warning', 'no keywords');
  if (!meta.info.screenshots?.length) add('screenshots', 'warning', 'no screenshots for the catalog');
  return findings;
}

function pathFindings(root: string, meta: PluginJson): Finding[] {
  const findings: Finding[] = [];
  const paths = [
    ['small logo', meta.info.logos.small],
    ['large logo', meta.info.logos.large],
    ...(meta.info.screenshots ?? []).map((s) => ['screenshot', s.path] as const),
  ] as const;
  for (const [kind, relative] of paths) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(relative)) {
      findings.push({ analyzer: 'metadatapaths', severity: 'error', message: `${kind} path is absolute: ${relative}` });
    } else if (relative.startsWith('.') || relative.startsWith('/')) {
      findings.push({ analyzer: 'metadatapaths', severity: 'error', message: `${kind} path starts with . or /` });
    } else if (!existsSync(path.join(root, relative))) {
      findings.push({ analyzer: 'metadatapaths', severity: 'error', message: `${kind} ${relative} is not in the zip` });
    }
  }
  for (const screenshot of meta.info.screenshots ?? []) {
    const file = path.join(root, screenshot.path);
    if (!existsSync(file)) continue;
    const type = imageType(readFileSync(file));
    const expected = TYPE_BY_EXTENSION[path.extname(file).toLowerCase()];
    if (!type || type !== expected) {
      findings.push({
        analyzer: 'screenshots',
        severity: 'error',
        message: `screenshot ${screenshot.path} is ${type ?? 'not an image'} (extension says ${expected ?? 'nothing'})`,
      });
    }
  }
  return findings;
}

function documentFindings(root: string): Finding[] {
  const findings: Finding[] = [];
  const add = (analyzer: string, severity: Severity, message: string) => findings.push({ analyzer, severity, message });
  const readme = existsSync(path.join(root, 'README.md')) ? readText(path.join(root, 'README.md')) : '';
  if (!readme.trim()) add('readme', 'error', 'README.md is missing or empty');
  if (/<!--[\s\S]*?-->/.test(readme)) add('readme', 'warning', 'README.md contains HTML comments');
  if (/Grafana (Panel|Data Source|Datasource|App|Data Source Backend) Plugin Template/i.test(readme)) {
    add('templatereadme', 'error', "README.md is create-plugin's template");
  }
  for (const word of ['yarn', 'nodejs']) if (readme.includes(word)) add('jargon', 'warning', `README.md says ${word}`);
  const changelog = path.join(root, 'CHANGELOG.md');
  if (!existsSync(changelog) || !readText(changelog).trim()) add('changelog', 'warning', 'CHANGELOG.md missing/empty');
  const license = existsSync(path.join(root, 'LICENSE')) ? readText(path.join(root, 'LICENSE')) : '';
  if (!license) add('license', 'error', 'LICENSE missing');
  // MIT, one of the accepted licenses (BSD, MIT, Apache-2.0, LGPL-3, GPL-3.0, AGPL-3.0): its grant sentence.
  else if (!/^MIT License/.test(license) || !license.includes('Permission is hereby granted, free of charge')) {
    add('license', 'error', 'LICENSE is not the MIT license text');
  }
  if (license.includes('{name of copyright owner}') || license.includes('{yyyy}')) {
    add('license', 'warning', 'LICENSE has template placeholders');
  }
  return findings;
}

function svgFindings(root: string): Finding[] {
  return filesUnder(root)
    .filter((file) => file.endsWith('.svg'))
    .flatMap((file) => {
      const text = readText(file);
      const elements = [...text.matchAll(/<([a-zA-Z][\w:-]*)/g)].map((m) => (m[1] as string).toLowerCase());
      const unsafe = [
        ...elements.filter((element) => !SAFE_SVG_ELEMENTS.has(element)),
        ...[...text.matchAll(/\s(on\w+)\s*=/gi)].map((m) => m[1] as string),
        ...(/javascript:/i.test(text) ? ['javascript:'] : []),
      ];
      return unsafe.length === 0
        ? []
        : [{ analyzer: 'unsafesvg', severity: 'error' as const, message: `${path.relative(root, file)}: ${unsafe}` }];
    });
}

/**
 * The first-party part of the jsMap analyzer: every module.js has its module.js.map, and every source of ours in the
 * maps (not webpack's runtime, not a node_modules package) is byte-identical to the file the repository has. The
 * validator resolves a source `webpack://<id>/<path>` against `<source code>/src/<path>`.
 */
function sourceMapFindings(root: string, id: string, sourceDir: string): Finding[] {
  const findings: Finding[] = [];
  const modules = filesUnder(root).filter((file) => path.basename(file) === 'module.js');
  if (modules.length === 0) findings.push({ analyzer: 'modulejs', severity: 'error', message: 'no module.js' });
  for (const module of modules) {
    if (!existsSync(`${module}.map`)) {
      findings.push({ analyzer: 'jsMap', severity: 'error', message: `${path.relative(root, module)}.map missing` });
    }
  }
  const prefix = `webpack://${id}/`;
  for (const map of filesUnder(root).filter((file) => file.endsWith('.js.map'))) {
    const { sources = [], sourcesContent = [] } = JSON.parse(readText(map)) as {
      sources?: string[];
      sourcesContent?: (string | null)[];
    };
    sources.forEach((source, index) => {
      if (!source.startsWith(prefix)) return;
      const relative = source.slice(prefix.length).split('?')[0] as string;
      const thirdParty = relative.includes('node_modules/') || relative.startsWith('external ');
      if (thirdParty || relative.startsWith('webpack/') || /\.(css|s[ac]ss|less|svg|json)$/.test(relative)) return;
      const file = path.join(sourceDir, 'src', relative);
      const content = sourcesContent[index];
      if (!existsSync(file) || readText(file) !== content) {
        findings.push({ analyzer: 'jsMap', severity: 'error', message: `${relative} differs from the source code` });
      }
    });
  }
  return findings;
}

/**
 * Every finding for an unpacked plugin zip (`unpacked` holds the zip's root folder) built from `sourceDir` (the
 * folder with package.json and src/). Returns an empty list for a plugin ready to submit.
 */
export function catalogFindings(unpacked: string, sourceDir: string): Finding[] {
  const sourceMeta = JSON.parse(readText(path.join(sourceDir, 'src', 'plugin.json'))) as PluginJson;
  const { root, findings } = archiveLayout(unpacked, sourceMeta.id);
  if (!root) return findings;
  const metaFile = path.join(root, 'plugin.json');
  if (!existsSync(metaFile))
    return [...findings, { analyzer: 'metadata', severity: 'error', message: 'no plugin.json' }];
  const meta = JSON.parse(readText(metaFile)) as PluginJson;
  const packageVersion = (JSON.parse(readText(path.join(sourceDir, 'package.json'))) as { version: string }).version;
  return [
    ...findings,
    ...metadataFindings(meta),
    ...(packageVersion === meta.info.version
      ? []
      : [
          {
            analyzer: 'packagejson',
            severity: 'error' as const,
            message: `package.json ${packageVersion} != plugin.json ${meta.info.version}`,
          },
        ]),
    ...pathFindings(root, meta),
    ...documentFindings(root),
    ...svgFindings(root),
    ...sourceMapFindings(root, meta.id, sourceDir),
  ];
}
