#!/usr/bin/env node
// The whole test suite, as the README's test command runs it: system packages (when root), npm dependencies, type
// check, lint, then every Jest project. Ends with the line "N passed, N failed" (checks count as tests) and a non-zero
// exit code on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages, ensureNodeModules } from './prerequisites.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

function run(title, command, args) {
  console.log(`\n=== ${title}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: process.env });
  return result.status === 0;
}

ensureSystemPackages();
ensureNodeModules();

let passed = 0;
let failed = 0;
const failures = [];
function check(title, ok) {
  if (ok) passed += 1;
  else {
    failed += 1;
    failures.push(title);
  }
}

// npm ci refuses a lock file that misses any platform's optional binaries (this registry mirror lags for the newest
// native packages): checked here so that a dependency change that breaks a clean install fails the suite, not CI.
check(
  'lock file installs cleanly (npm ci --dry-run)',
  run('lock file', 'npm', ['ci', '--dry-run', '--no-audit', '--no-fund']),
);
check('build (tsc -b)', run('build', 'npx', ['tsc', '-b', 'tsconfig.build.json']));
check('type check of tests', run('type check of tests', 'npx', ['tsc', '-p', 'tsconfig.test.json']));
// The Grafana plugin is a browser bundle (DOM, JSX, bundler module resolution): its own TS project.
check(
  'type check of the Grafana plugin',
  run('type check of the Grafana plugin', 'npx', ['tsc', '-p', 'grafana-plugin/tsconfig.json']),
);
check('lint (eslint)', run('lint', 'npx', ['eslint', '.']));
check('format (prettier --check)', run('format', 'npx', ['prettier', '--check', '.']));

mkdirSync('.test-results', { recursive: true });
const resultsFile = join('.test-results', 'jest.json');
const jestArgs = ['jest', '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)];
const jestOk = run('tests', 'npx', jestArgs);
if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  // A suite that failed to load (syntax error, missing module) has no failed tests of its own: count it.
  for (const suite of results.testResults) {
    if (suite.status === 'failed' && suite.assertionResults.every((a) => a.status !== 'failed')) {
      failed += 1;
      failures.push(`suite ${suite.name}: ${suite.message.split('\n').find((l) => l.trim()) ?? 'failed to run'}`);
    } else {
      for (const a of suite.assertionResults) if (a.status === 'failed') failures.push(a.fullName);
    }
  }
} else if (!jestOk) {
  failed += 1;
  failures.push('jest did not run');
}
if (!jestOk && failed === 0) {
  failed += 1;
  failures.push('jest exited non-zero');
}

if (failures.length > 0) {
  console.log('\nFailed:');
  for (const f of failures) console.log(`  - ${f}`);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
