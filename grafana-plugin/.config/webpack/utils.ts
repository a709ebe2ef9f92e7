import fs from 'node:fs';
import path from 'node:path';
import { SOURCE_DIR } from './constants';

export interface PackageJson {
  readonly version: string;
}

export interface PluginJson {
  readonly id: string;
  readonly [key: string]: unknown;
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function getPackageJson(): PackageJson {
  return readJson<PackageJson>(path.resolve(process.cwd(), 'package.json'));
}

export function getPluginJson(): PluginJson {
  return readJson<PluginJson>(path.resolve(process.cwd(), SOURCE_DIR, 'plugin.json'));
}

export function hasReadme(): boolean {
  return fs.existsSync(path.resolve(process.cwd(), SOURCE_DIR, 'README.md'));
}

/**
 * One entry per plugin.json that has a sibling module.ts(x): `module` for the app itself, `<dir>/module` for nested
 * plugins (none yet), the way create-plugin finds them.
 */
export function getEntries(): Record<string, string> {
  const root = path.resolve(process.cwd(), SOURCE_DIR);
  const entries: Record<string, string> = {};
  const walk = (dir: string): void => {
    const names = fs.readdirSync(dir);
    if (names.includes('plugin.json')) {
      const module = ['module.tsx', 'module.ts', 'module.jsx', 'module.js'].find((name) => names.includes(name));
      if (module) {
        const relative = path.relative(root, dir);
        entries[relative === '' ? 'module' : `${relative}/module`] = path.join(dir, module);
      }
    }
    for (const name of names) {
      const child = path.join(dir, name);
      if (fs.statSync(child).isDirectory()) walk(child);
    }
  };
  walk(root);
  return entries;
}
