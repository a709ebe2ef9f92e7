#!/usr/bin/env node
/* eslint-disable no-console -- a command-line tool: it prints its measurement */
/* global fetch */
// Measures the collector's memory and CPU while Prometheus-like scrapes hit it: the numbers behind the Linux
// DaemonSet's requests and limits (deploy/kubernetes/MEASUREMENTS.md). Runs the real built collector on this host.
//
//   node deploy/scripts/measure-footprint.mjs [--cli collector/dist/cli.js] [--seconds 120] [--scrape-ms 1000]
//                                            [--load none|traffic] [-- extra kappie serve arguments]
//
// --load traffic adds, for the whole run, TCP traffic over loopback (iperf3, when installed) and a stream of UDP
// datagrams to a closed loopback port (each one a kernel drop, NO_SOCKET / UDP NoPorts), so the flag counters and
// the drop event stream have work to do. Only loopback is used.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}
const cli = option('cli', 'collector/dist/cli.js');
const { shebangNodeFlags } = createRequire(import.meta.url)('../../collector/dist/node-flags.js');
const seconds = Number(option('seconds', '120'));
const scrapeMs = Number(option('scrape-ms', '1000'));
const load = option('load', 'none');
const separator = process.argv.indexOf('--');
const extraArgs = separator >= 0 ? process.argv.slice(separator + 1) : [];
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || '100');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function cpuSeconds(pid) {
  // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
function memoryKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// Node.js flags from the bin's shebang (`#!/usr/bin/env -S node --flag`): run the collector as `kappie` runs.
const nodeFlags = shebangNodeFlags(readFileSync(cli, 'utf8').split('\n')[0]);
// Its own tracefs instance and nftables table, so a collector already running on the host is left alone.
const isolation = [
  '--tracefs-instance',
  `kappie-measure-${randomBytes(3).toString('hex')}`,
  '--nft-table',
  `kappie-measure-${randomBytes(3).toString('hex')}`,
];
const collector = spawn(
  process.execPath,
  [...nodeFlags, cli, 'serve', '--listen', '127.0.0.1:0', ...isolation, ...extraArgs],
  {
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
let log = '';
const port = await new Promise((resolve, reject) => {
  collector.stderr.on('data', (chunk) => {
    log += chunk;
    const match = /serving \/metrics on port (\d+)/.exec(log);
    if (match) resolve(Number(match[1]));
  });
  collector.once('exit', (code) => reject(new Error(`collector exited ${code}: ${log}`)));
});

const background = [];
let udpTimer;
if (load === 'traffic') {
  if (spawnSync('sh', ['-c', 'command -v iperf3']).status === 0) {
    const serverPort = String(20000 + Math.floor(Math.random() * 20000));
    background.push(spawn('iperf3', ['-s', '-B', '127.0.0.1', '-p', serverPort], { stdio: 'ignore' }));
    await sleep(500);
    background.push(
      spawn('iperf3', ['-c', '127.0.0.1', '-p', serverPort, '-t', String(seconds + 30), '-b', '2G'], {
        stdio: 'ignore',
      }),
    );
  }
  // A port nobody listens on: bind and close a socket to find one.
  const closed = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address();
      probe.close(() => resolve(p));
    });
  });
  const udp = dgram.createSocket('udp4');
  const payload = Buffer.alloc(64);
  udpTimer = setInterval(() => {
    for (let i = 0; i < 200; i += 1) udp.send(payload, closed, '127.0.0.1');
  }, 10); // about 20,000 dropped datagrams per second
  background.push({ kill: () => (clearInterval(udpTimer), udp.close()) });
}

const scrapeDurations = [];
let series = 0;
async function scrape() {
  const started = process.hrtime.bigint();
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await response.text();
  scrapeDurations.push(Number(process.hrtime.bigint() - started) / 1e6);
  series = text.split('\n').filter((line) => line && !line.startsWith('#')).length;
}

try {
  // Warm-up: sources start (nft table, tracefs instance) and the JIT settles.
  for (let i = 0; i < 10; i += 1) {
    await scrape();
    await sleep(scrapeMs);
  }
  scrapeDurations.length = 0;
  const rssSamples = [];
  const windows = [];
  const cpuStart = cpuSeconds(collector.pid);
  const wallStart = Date.now();
  let windowCpu = cpuStart;
  let windowWall = wallStart;
  while (Date.now() - wallStart < seconds * 1000) {
    await scrape();
    await sleep(scrapeMs);
    rssSamples.push(memoryKiB(collector.pid).rss);
    if (Date.now() - windowWall >= 10_000) {
      const cpu = cpuSeconds(collector.pid);
      windows.push((cpu - windowCpu) / ((Date.now() - windowWall) / 1000));
      windowCpu = cpu;
      windowWall = Date.now();
    }
  }
  const cpuAverage = (cpuSeconds(collector.pid) - cpuStart) / ((Date.now() - wallStart) / 1000);
  const { hwm } = memoryKiB(collector.pid);
  const result = {
    load,
    seconds,
    scrapeIntervalMs: scrapeMs,
    scrapes: scrapeDurations.length,
    series,
    nodeFlags: nodeFlags.join(' '),
    collectorArgs: extraArgs.join(' '),
    rssMiB: {
      median: +(percentile(rssSamples, 50) / 1024).toFixed(1),
      max: +(Math.max(...rssSamples) / 1024).toFixed(1),
      peakHwm: +(hwm / 1024).toFixed(1),
    },
    cpuMillicores: {
      average: Math.round(cpuAverage * 1000),
      max10s: Math.round(Math.max(...windows) * 1000),
    },
    scrapeMs: {
      p50: +percentile(scrapeDurations, 50).toFixed(1),
      p99: +percentile(scrapeDurations, 99).toFixed(1),
      max: +Math.max(...scrapeDurations).toFixed(1),
    },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  for (const child of background) child.kill();
  collector.kill('SIGTERM');
  await new Promise((resolve) => collector.once('exit', resolve));
}
