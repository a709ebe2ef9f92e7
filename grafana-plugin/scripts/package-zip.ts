/**
 * Packs dist/ the way Grafana's publishing docs describe: the files inside a folder named after the plugin id, in
 * `<id>-<version>.zip`, ready for `npx @grafana/sign-plugin` (which signs dist/ itself: sign first, then re-run this).
 */
import fs from 'node:fs';
import path from 'node:path';
import { zipSync, type Zippable } from 'fflate';

const UNIX = 3;
const FILE_MODE = 0o100644;
const DIR_MODE = 0o040755;

/** Relative paths of every file under `dir`, sorted, with `/` separators. */
export function listFiles(dir: string, prefix = ''): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      return entry.isDirectory() ? listFiles(path.join(dir, entry.name), relative) : [relative];
    });
}

export function zipName(pluginId: string, version: string): string {
  return `${pluginId}-${version}.zip`;
}

/** The zip's entries: `<id>/` plus every file and folder of dist under it, with Unix permissions. */
export function zipEntries(distDir: string, pluginId: string): Zippable {
  const entries: Zippable = { [`${pluginId}/`]: [new Uint8Array(0), { os: UNIX, attrs: DIR_MODE << 16 }] };
  for (const file of listFiles(distDir)) {
    const parts = file.split('/');
    for (let depth = 1; depth < parts.length; depth += 1) {
      entries[`${pluginId}/${parts.slice(0, depth).join('/')}/`] = [
        new Uint8Array(0),
        { os: UNIX, attrs: DIR_MODE << 16 },
      ];
    }
    entries[`${pluginId}/${file}`] = [
      new Uint8Array(fs.readFileSync(path.join(distDir, file))),
      { os: UNIX, attrs: FILE_MODE << 16, level: 9 },
    ];
  }
  return entries;
}

export function packagePlugin(pluginDir: string): string {
  const distDir = path.join(pluginDir, 'dist');
  const pluginJsonPath = path.join(distDir, 'plugin.json');
  if (!fs.existsSync(pluginJsonPath)) throw new Error(`${pluginJsonPath} is missing: run the webpack build first`);
  const pluginJson = JSON.parse(fs.readFileSync(pluginJsonPath, 'utf8')) as { id: string; info: { version: string } };
  const outDir = path.join(pluginDir, 'build');
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, zipName(pluginJson.id, pluginJson.info.version));
  // Fixed timestamps are not possible with every zip reader; fflate writes the file times of now, which is fine.
  fs.writeFileSync(out, zipSync(zipEntries(distDir, pluginJson.id)));
  return out;
}

if (require.main === module) {
  const out = packagePlugin(path.resolve(__dirname, '..'));
  process.stdout.write(`wrote ${path.relative(process.cwd(), out)}\n`);
}
