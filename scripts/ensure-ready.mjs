#!/usr/bin/env node
// Run before `npm start`: installs the npm dependencies on a fresh clone and builds the collector when its build is
// missing or older than its sources, so that `npm start` is the one command a new user needs.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureNodeModules } from './prerequisites.mjs';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

ensureNodeModules();
const built = 'collector/dist/cli.js';
if (!existsSync(built) || statSync(built).mtimeMs < newestMtime('collector/src')) {
  console.error('building the collector (tsc -b collector)');
  const result = spawnSync('npx', ['tsc', '-b', 'collector'], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
