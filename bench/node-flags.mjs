#!/usr/bin/env node
// Node.js flags and environment candidates for the collector, one after the other on the same case: the real
// `kappie serve` (every Linux source) in a network namespace of its own holding N loopback TCP connections (and
// optionally M pod veths), 3 warm-up scrapes, then S timed scrapes. Per candidate: median and minimum scrape
// latency, CPU per scrape (utime+stime), RSS / RssAnon / RssFile after the scrapes, peak RSS (VmHWM), and the median
// per-source gathering time from kappie_source_collection_duration_seconds.
// Usage (root, after `npm run build`; each candidate runs alone, so a busy machine moves latency between rows):
//   node bench/node-flags.mjs [--sockets 1000] [--interfaces 0] [--scrapes 40] [--rounds 1] [--candidates 0,2] [--gc]
// Prints Markdown. The namespaces, the nft table and the tracefs instance it creates are removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const SOCKETS = Number(option('--sockets', '1000'));
const INTERFACES = Number(option('--interfaces', '0'));
const SCRAPES = Number(option('--scrapes', '40'));
const ROUNDS = Number(option('--rounds', '1'));
const CLI = path.join(here, '..', 'collector', 'dist', 'cli.js');
const PORT = 19_872;
const MiB = 1024;

const shebang = /^#!.*\bnode((?:\s+--\S+)*)\s*$/.exec(readFileSync(CLI, 'utf8').split('\n', 1)[0]);
const FLAGS = shebang ? shebang[1].trim().split(/\s+/) : [];
const without = (flag) => FLAGS.filter((f) => f !== flag);

/** [label, node flags, extra environment] */
const CANDIDATES = [
  ['the bin flags', FLAGS, {}],
  ['+ --jitless', [...FLAGS, '--jitless'], {}],
  ['+ --lite-mode', [...FLAGS, '--lite-mode'], {}],
  ['+ --v8-pool-size=1', [...FLAGS, '--v8-pool-size=1'], {}],
  ['+ --single-threaded-gc', [...FLAGS, '--single-threaded-gc'], {}],
  ['+ --single-threaded', [...FLAGS, '--single-threaded'], {}],
  ['+ --max-old-space-size=16', [...FLAGS, '--max-old-space-size=16'], {}],
  ['+ MALLOC_ARENA_MAX=2', FLAGS, { MALLOC_ARENA_MAX: '2' }],
  ['without --no-opt (TurboFan on)', without('--no-opt'), {}],
  ['without --optimize-for-size', without('--optimize-for-size'), {}],
  ['--max-semi-space-size=4', [...without('--max-semi-space-size=1'), '--max-semi-space-size=4'], {}],
  ['+ --no-parallel-scavenge', [...FLAGS, '--no-parallel-scavenge'], {}],
  [
    '--max-semi-space-size=4 --no-opt --heap-growing-percent=10',
    ['--max-semi-space-size=4', '--no-opt', '--heap-growing-percent=10'],
    {},
  ],
  [
    '--max-semi-space-size=4 --no-opt --optimize-for-size (pins the young generation at 1 MiB)',
    ['--max-semi-space-size=4', '--no-opt', '--optimize-for-size'],
    {},
  ],
];
/** --candidates 0,3 runs only those rows of CANDIDATES (default: every one). */
const CHOSEN = option('--candidates', undefined)
  ?.split(',')
  .map((index) => CANDIDATES[Number(index)] ?? fail(`no candidate ${index} (0-${CANDIDATES.length - 1})`));
/** --gc: run with --trace-gc-nvp and report the collector's GC pauses per scrape (tracing costs a little itself). */
const TRACE_GC = args.includes('--gc');

function fail(message) {
  throw new Error(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const inNs = (ns, command, ...rest) =>
  execFileSync('ip', ['netns', 'exec', ns, command, ...rest], { encoding: 'utf8' });

const HOLDER = `
const net = require('node:net');
const [pairs, port] = process.argv.slice(1).map(Number);
const sockets = [];
const server = net.createServer((s) => sockets.push(s)).listen(port, '127.0.0.1', () => {
  let open = 0;
  for (let i = 0; i < pairs; i++) {
    const c = net.connect(port, '127.0.0.1', () => { if (++open === pairs) console.log('ready'); });
    sockets.push(c);
  }
  if (pairs === 0) console.log('ready');
});
setInterval(() => {}, 1 << 30);
`;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

async function scrape() {
  const started = process.hrtime.bigint();
  const response = await globalThis.fetch(`http://127.0.0.1:${PORT}/metrics`);
  const body = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, body };
}

function processState(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)[1]);
  return {
    cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100,
    rss: kB('VmRSS'),
    anon: kB('RssAnon'),
    file: kB('RssFile'),
    hwm: kB('VmHWM'),
  };
}

async function measure(label, flags, env) {
  const child = spawn(
    process.execPath,
    [
      ...flags,
      ...(TRACE_GC ? ['--trace-gc-nvp'] : []),
      CLI,
      'serve',
      '--listen',
      `127.0.0.1:${PORT}`,
      '--log-level',
      'error',
      '--scrape-reuse-window',
      '0',
      '--nft-table',
      NS,
      '--tracefs-instance',
      NS,
    ],
    { stdio: ['ignore', TRACE_GC ? 'pipe' : 'ignore', 'inherit'], env: { ...process.env, ...env } },
  );
  // With --gc: the pause of every collection (scavenges and full ones) V8 prints, in ms.
  const pauses = [];
  let partial = '';
  child.stdout?.on('data', (chunk) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const pause = / pause=([\d.]+) /.exec(line);
      if (pause) pauses.push(Number(pause[1]));
    }
  });
  const pauseTotal = () => pauses.reduce((sum, ms) => sum + ms, 0);
  try {
    for (let i = 0; ; i++) {
      try {
        await scrape();
        break;
      } catch {
        if (i > 300) throw new Error(`${label}: the collector did not answer`);
        await sleep(100);
      }
    }
    for (let i = 0; i < 3; i++) await scrape();
    const before = processState(child.pid);
    const pausedBefore = pauseTotal();
    const latencies = [];
    const durations = new Map();
    for (let i = 0; i < SCRAPES; i++) {
      const { ms, body } = await scrape();
      latencies.push(ms);
      for (const m of body.matchAll(/collection_duration_seconds\{source="(\w+)"[^}]*\} (\S+)/g)) {
        if (!durations.has(m[1])) durations.set(m[1], []);
        durations.get(m[1]).push(Number(m[2]) * 1000);
      }
    }
    const after = processState(child.pid);
    const gcPerScrape = TRACE_GC ? ((pauseTotal() - pausedBefore) / SCRAPES).toFixed(2) : 'not traced';
    const sources = [...durations].map(([name, values]) => `${name} ${median(values).toFixed(1)}`).join(', ');
    return [
      label,
      median(latencies).toFixed(1),
      Math.min(...latencies).toFixed(1),
      ((after.cpuMs - before.cpuMs) / SCRAPES).toFixed(1),
      (after.rss / MiB).toFixed(1),
      (after.anon / MiB).toFixed(1),
      (after.file / MiB).toFixed(1),
      (after.hwm / MiB).toFixed(1),
      gcPerScrape,
      sources,
      readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

// The outer process makes the namespaces and runs itself inside the collector's (`--inner NS`), so that the
// collector, the socket holder and the scraping client share its loopback.
const INNER = option('--inner', undefined);
const NS = INNER ?? `kf${randomBytes(3).toString('hex')}`;
const PEER = `${NS}p`;

async function inner() {
  const holder = spawn(process.execPath, ['-e', HOLDER, String(SOCKETS / 2), '20100'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise((resolve, reject) => {
      holder.stdout.on('data', (chunk) => chunk.toString().includes('ready') && resolve());
      holder.once('exit', (code) => reject(new Error(`socket holder exited with ${code}`)));
    });
    const rows = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [label, flags, env] of CHOSEN ?? CANDIDATES) rows.push(await measure(label, flags, env));
    }
    const headers = [
      'candidate',
      'median ms',
      'min ms',
      'CPU ms/scrape',
      'RSS MiB',
      'RssAnon',
      'RssFile',
      'VmHWM',
      'GC pause ms/scrape',
      'median ms per source',
      'load',
    ];
    console.log(
      `Node ${process.version}, bin flags ${FLAGS.join(' ')}; ${SOCKETS} sockets, ${INTERFACES} pod ` +
        `interfaces, ${SCRAPES} scrapes after 3 warm-ups\n`,
    );
    console.log(`| ${headers.join(' | ')} |\n| ${headers.map(() => '---').join(' | ')} |`);
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  } finally {
    holder.kill('SIGTERM');
  }
}

async function main() {
  if (INNER !== undefined) return inner();
  if (process.getuid() !== 0) throw new Error('run as root (network namespace, nft table, tracefs)');
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['netns', 'add', PEER]);
  try {
    inNs(NS, 'ip', 'link', 'set', 'lo', 'up');
    if (INTERFACES > 0) {
      const batch = [];
      for (let i = 0; i < INTERFACES; i++) {
        const name = `veth${i.toString(16).padStart(6, '0')}`;
        batch.push(`link add ${name} type veth peer name p${i} netns ${PEER}`, `link set ${name} up`);
      }
      execFileSync('ip', ['-n', NS, '-batch', '-'], { input: `${batch.join('\n')}\n` });
    }
    execFileSync(
      'ip',
      ['netns', 'exec', NS, process.execPath, fileURLToPath(import.meta.url), ...args, '--inner', NS],
      {
        stdio: 'inherit',
      },
    );
  } finally {
    execFileSync('ip', ['netns', 'delete', NS]);
    execFileSync('ip', ['netns', 'delete', PEER]);
  }
}

main().catch((error) => {
  console.error(`node flags: ${error.message}`);
  process.exit(1);
});
