#!/usr/bin/env node
// Cost of one gathering of the ethtool source (NIC driver statistics through the SIOCETHTOOL ioctl).
// Usage (root, after `npm run build` or `npx tsc -b tsconfig.build.json`):
//   node bench/ethtool-cost.mjs [QUEUES ...]      default: 1 16 64
// Per case it makes a namespace "node" whose uplink is a veth with QUEUES rx and tx queues (a veth has 1 + 9 driver
// statistics per queue pair), default routes via a second namespace, then, inside "node", gathers the source 200
// times in one process and prints the minimum, median and 95th percentile, and the series. Namespaces are removed at
// the end, also on failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'collector', 'dist');
const ROUNDS = 200;

function inner() {
  const require = createRequire(import.meta.url);
  const { resolveConfig } = require(path.join(dist, 'config.js'));
  const { createHostFs } = require(path.join(dist, 'host-fs.js'));
  const { silentLogger } = require(path.join(dist, 'log.js'));
  const { createEthtoolSource } = require(path.join(dist, 'sources/linux/ethtool.js'));
  for (const cap of [256, 100_000]) {
    const config = resolveConfig({ ethtoolMaxStatistics: String(cap) }, {});
    const ctx = { config, fs: createHostFs('/proc', '/sys'), log: silentLogger() };
    const source = createEthtoolSource();
    for (let i = 0; i < 20; i++) source.collect(ctx);
    const times = [];
    let result;
    for (let i = 0; i < ROUNDS; i++) {
      const start = process.hrtime.bigint();
      result = source.collect(ctx);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((x, y) => x - y);
    const ms = (value) => `${value.toFixed(3).padStart(7)} ms`;
    const series = (result.interfaceStats ?? []).length;
    console.log(
      `  --ethtool-max-statistics ${String(cap).padEnd(6)} min ${ms(times[0])}  median ${ms(times[ROUNDS / 2])}  ` +
        `p95 ${ms(times[Math.floor(ROUNDS * 0.95)])}  ${series} series${source.note() ? ` (${source.note()})` : ''}`,
    );
  }
}

function ip(...args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

function outer(queueCounts) {
  for (const queues of queueCounts) {
    const suffix = randomBytes(3).toString('hex');
    const names = { node: `ktbe${suffix}`, up: `ktbf${suffix}` };
    try {
      for (const ns of Object.values(names)) ip('netns', 'add', ns);
      const q = String(queues);
      ip(
        'link',
        'add',
        `kb${suffix}a`,
        'numrxqueues',
        q,
        'numtxqueues',
        q,
        'type',
        'veth',
        'peer',
        'name',
        `kb${suffix}b`,
      );
      ip('link', 'set', `kb${suffix}a`, 'netns', names.node, 'name', 'eth0');
      ip('link', 'set', `kb${suffix}b`, 'netns', names.up, 'name', 'peer0');
      ip('-n', names.node, 'addr', 'add', '198.18.97.1/24', 'dev', 'eth0');
      ip('-n', names.node, 'link', 'set', 'eth0', 'up');
      ip('-n', names.node, 'route', 'add', 'default', 'via', '198.18.97.2');
      console.log(`uplink veth with ${queues} queue pairs:`);
      execFileSync('ip', ['netns', 'exec', names.node, process.execPath, fileURLToPath(import.meta.url), '--inner'], {
        stdio: 'inherit',
      });
    } finally {
      for (const ns of Object.values(names)) spawnSync('ip', ['netns', 'delete', ns]);
    }
  }
}

if (process.argv.includes('--inner')) {
  inner();
} else {
  const counts = process.argv.slice(2).map(Number);
  outer(counts.length > 0 ? counts : [1, 16, 64]);
}
