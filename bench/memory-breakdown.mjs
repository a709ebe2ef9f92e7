#!/usr/bin/env node
// Where the collector's resident memory goes: the real `kappie serve` (every Linux source, the bin's Node flags from
// the shebang) in a network namespace of its own, scraped N times, then its /proc/PID/smaps summed per mapping,
// RssAnon/RssFile, V8's heap spaces and the number of loaded modules (through a --require probe that answers
// SIGUSR2), next to a bare `node` running an empty HTTP server with the same flags.
// Usage (root, after `npm run build`):
//   node bench/memory-breakdown.mjs [--scrapes N] [--collector DIR]     DIR: a collector/ directory (default: ours)
// Prints Markdown. The namespace, the nft table and the tracefs instance it creates are removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const SCRAPES = Number(option('--scrapes', '30'));
const COLLECTOR = path.resolve(option('--collector', path.join(here, '..', 'collector')));
const CLI = path.join(COLLECTOR, 'dist', 'cli.js');
const PORT = 19_871;
const MiB = 1024 * 1024;

const work = mkdtempSync(path.join(tmpdir(), 'kappie-memory-'));
const PROBE = path.join(work, 'probe.cjs');
writeFileSync(
  PROBE,
  `process.on('SIGUSR2', () => {
  const v8 = require('node:v8');
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size]));
  require('node:fs').writeFileSync(${JSON.stringify(path.join(work, 'probe-'))} + process.pid + '.json',
    JSON.stringify({ memory: process.memoryUsage(), spaces, modules: Object.keys(require.cache).length }));
});\n`,
);

function shebangFlags(file) {
  const match = /^#!.*\bnode((?:\s+--\S+)*)\s*$/.exec(readFileSync(file, 'utf8').split('\n', 1)[0]);
  return match ? match[1].trim().split(/\s+/).filter(Boolean) : [];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function smaps(pid) {
  const totals = new Map();
  let mapping = '[anon]';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) mapping = header[1] === '' ? '[anon]' : header[1];
    else if (line.startsWith('Rss:'))
      totals.set(mapping, (totals.get(mapping) ?? 0) + Number(line.split(/\s+/)[1]) * 1024);
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)[1]) * 1024;
  return { totals, rss: kB('VmRSS'), anon: kB('RssAnon'), file: kB('RssFile') };
}

async function measure(ns, label, command) {
  const child = spawn('ip', ['netns', 'exec', ns, ...command], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (let i = 0; ; i++) {
      try {
        execFileSync('ip', ['netns', 'exec', ns, 'curl', '-sf', '-o', '/dev/null', `http://127.0.0.1:${PORT}/metrics`]);
        break;
      } catch {
        if (i > 200) throw new Error(`${label} did not answer`);
        await sleep(100);
      }
    }
    const pid = child.pid; // ip netns exec execs the command: same process
    const atStart = smaps(pid);
    for (let i = 0; i < SCRAPES; i++) {
      execFileSync('ip', ['netns', 'exec', ns, 'curl', '-sf', '-o', '/dev/null', `http://127.0.0.1:${PORT}/metrics`]);
    }
    const after = smaps(pid);
    process.kill(pid, 'SIGUSR2');
    const probeFile = path.join(work, `probe-${pid}.json`);
    for (let i = 0; i < 50 && !existsSync(probeFile); i++) await sleep(100);
    return { label, atStart, after, probe: JSON.parse(readFileSync(probeFile, 'utf8')) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const mib = (bytes) => (bytes / MiB).toFixed(1);

async function main() {
  if (process.getuid() !== 0) throw new Error('run as root (network namespace, nft table, tracefs)');
  const ns = `km${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const flags = shebangFlags(CLI);
    const bare = `require('node:http').createServer((q, s) => s.end('ok')).listen(${PORT}, '127.0.0.1');`;
    const results = [
      await measure(ns, `node ${flags.join(' ')} (HTTP server only)`, [
        process.execPath,
        ...flags,
        '--require',
        PROBE,
        '-e',
        bare,
      ]),
      await measure(ns, `kappie serve, every Linux source`, [
        process.execPath,
        ...flags,
        '--require',
        PROBE,
        CLI,
        'serve',
        '--listen',
        `127.0.0.1:${PORT}`,
        '--log-level',
        'error',
        '--scrape-reuse-window',
        '0',
        '--nft-table',
        ns,
        '--tracefs-instance',
        ns,
      ]),
    ];
    const mappings = ['/usr/bin/node', '[anon]', '[heap]'];
    const rows = results.map(({ label, atStart, after, probe }) => {
      const libraries = [...after.totals].filter(([k]) => !mappings.includes(k)).reduce((sum, [, v]) => sum + v, 0);
      const spaces = probe.spaces;
      return [
        label,
        mib(atStart.rss),
        mib(after.rss),
        mib(after.anon),
        mib(after.file),
        ...mappings.map((m) => mib(after.totals.get(m) ?? 0)),
        mib(libraries),
        mib(probe.memory.heapTotal),
        mib(probe.memory.heapUsed),
        `${mib(spaces.old_space)} / ${mib(spaces.new_space)} / ${mib(spaces.code_space)} / ${mib(spaces.large_object_space)}`,
        mib(probe.memory.external),
        String(probe.modules),
      ];
    });
    const headers = [
      'process',
      'RSS at start',
      `RSS after ${SCRAPES} scrapes`,
      'RssAnon',
      'RssFile',
      'node binary',
      'anonymous maps',
      'malloc heap',
      'shared libraries',
      'V8 heapTotal',
      'V8 heapUsed',
      'old / new / code / large-object space',
      'external',
      'modules',
    ];
    console.log(`Node ${process.version}, flags ${flags.join(' ')}, collector ${COLLECTOR}, all figures MiB\n`);
    console.log(`| ${headers.join(' | ')} |\n| ${headers.map(() => '---').join(' | ')} |`);
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`memory breakdown: ${error.message}`);
  process.exit(1);
});
