#!/usr/bin/env node
// Cost of one gathering of the netdev, forward and snmp sources on a node with many pod interfaces.
// Usage (root, after `npm run build` or `npx tsc -b tsconfig.build.json`):
//   node bench/linux-sources-cost.mjs [VETHS ...]      default: 10 250 1000
// Per case it makes a namespace "node" with an uplink (default routes via a second namespace) and VETHS pod veths
// whose peers sit in a third namespace (as pods' would), then, inside "node", gathers each source 200 times in one
// process and prints the minimum, median and 95th percentile (the minimum is the cost on an idle machine), plus one cold `kappie snapshot` run. Namespaces are removed at
// the end, also on failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'collector', 'dist');
const ROUNDS = 200;

async function inner() {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const { resolveConfig } = require(path.join(dist, 'config.js'));
  const { createHostFs } = require(path.join(dist, 'kernel/host-fs.js'));
  const { silentLogger } = require(path.join(dist, 'log.js'));
  const { createNetdevSource } = require(path.join(dist, 'sources/linux/netdev.js'));
  const { createForwardSource } = require(path.join(dist, 'sources/linux/forward.js'));
  const { createSnmpSource } = require(path.join(dist, 'sources/linux/snmp.js'));
  const { interfaceIncarnationsFromSysfs, createInterfaceIncarnations } = require(
    path.join(dist, 'sources/linux/interface-incarnations.js'),
  );
  const { parseNetDev } = require(path.join(dist, 'kernel/net-dev.js'));
  const config = resolveConfig({}, {});
  const ctx = { config, fs: createHostFs(config), log: silentLogger() };
  const measure = (fn) => {
    for (let i = 0; i < 20; i++) fn();
    const times = [];
    let result;
    for (let i = 0; i < ROUNDS; i++) {
      const start = process.hrtime.bigint();
      result = fn();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    times.sort((x, y) => x - y);
    return { min: times[0], median: times[Math.floor(ROUNDS / 2)], p95: times[Math.floor(ROUNDS * 0.95)], result };
  };
  const series = (samples) => Object.values(samples).reduce((n, list) => n + list.length, 0);
  const rows = [];
  const netdev = createNetdevSource();
  const forward = createForwardSource();
  const snmpSource = createSnmpSource();
  let text = '';
  const read = measure(() => (text = ctx.fs.readProc('net/dev')));
  rows.push(['read /proc/net/dev', read, `${text.length} bytes`]);
  rows.push(['parse /proc/net/dev', measure(() => parseNetDev(text)), `${parseNetDev(text).length} interfaces`]);
  // What the pod sum adds to netdev: the ifindex (incarnation) of every interface, one sysfs file each, or one
  // rtnetlink link dump (what the sources use on a live procfs).
  const names = parseNetDev(text).map(({ name }) => name);
  rows.push([
    'ifindex of every interface (sysfs)',
    measure(() => interfaceIncarnationsFromSysfs(ctx.fs, names)),
    `${names.length} files`,
  ]);
  const incarnations = createInterfaceIncarnations();
  rows.push([
    'ifindex of every interface (rtnetlink)',
    measure(() => incarnations(ctx, names, names.length)),
    `${names.length} links, one dump`,
  ]);
  const perPod = { ...ctx, config: { ...config, perPodInterfaceStats: true } };
  for (const [name, fn] of [
    ['netdev', () => netdev.collect(ctx)],
    ['netdev --per-pod-interface-stats', () => netdev.collect(perPod)],
    ['forward', () => forward.collect(ctx)],
    ['snmp (default)', () => snmpSource.collect(ctx)],
    ['snmp --statistics all', () => snmpSource.collect({ ...ctx, config: { ...config, statistics: 'all' } })],
  ]) {
    const m = measure(fn);
    rows.push([name, m, `${series(m.result)} series`]);
  }
  for (const [name, m, extra] of rows) {
    const ms = (value) => `${value.toFixed(3).padStart(7)} ms`;
    console.log(`  ${name.padEnd(34)} min ${ms(m.min)}  median ${ms(m.median)}  p95 ${ms(m.p95)}  ${extra}`);
  }
}

function ip(...args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

function outer(counts) {
  const suffix = randomBytes(3).toString('hex');
  const names = { node: `ktbn${suffix}`, up: `ktbu${suffix}`, pods: `ktbp${suffix}` };
  const dir = mkdtempSync(path.join(tmpdir(), 'kappie-bench-'));
  try {
    for (const ns of Object.values(names)) ip('netns', 'add', ns);
    ip('-n', names.node, 'link', 'set', 'lo', 'up');
    ip('link', 'add', `kb${suffix}a`, 'type', 'veth', 'peer', 'name', `kb${suffix}b`);
    ip('link', 'set', `kb${suffix}a`, 'netns', names.node, 'name', 'eth0');
    ip('link', 'set', `kb${suffix}b`, 'netns', names.up, 'name', 'peer0');
    ip('-n', names.node, 'addr', 'add', '198.18.99.1/24', 'dev', 'eth0');
    ip('-n', names.node, 'link', 'set', 'eth0', 'up');
    ip('-n', names.node, 'route', 'add', 'default', 'via', '198.18.99.2');
    let made = 0;
    for (const count of counts) {
      const batch = [];
      for (; made < count; made++) {
        const id = made.toString(16).padStart(11, '0');
        batch.push(`link add veth${id} type veth peer name p${id} netns ${names.pods}`);
      }
      if (batch.length > 0) {
        const file = path.join(dir, 'batch');
        writeFileSync(file, batch.join('\n') + '\n');
        ip('-n', names.node, '-batch', file);
      }
      console.log(`${count} pod veths in the node namespace (+ eth0, lo):`);
      execFileSync('ip', ['netns', 'exec', names.node, process.execPath, fileURLToPath(import.meta.url), '--inner'], {
        stdio: 'inherit',
      });
      const start = process.hrtime.bigint();
      const out = execFileSync('ip', [
        'netns',
        'exec',
        names.node,
        process.execPath,
        path.join(dist, 'cli.js'),
        'snapshot',
        '--json',
        '--sources',
        'netdev,forward,snmp',
      ]).toString();
      const took = Number(process.hrtime.bigint() - start) / 1e6;
      const gathering = JSON.parse(out);
      const perSource = gathering.sources
        .map((s) => `${s.name} ${(s.collection_duration_seconds * 1000).toFixed(1)} ms`)
        .join(', ');
      console.log(`  cold \`kappie snapshot\` process: ${took.toFixed(0)} ms in all; first gathering: ${perSource}`);
    }
  } finally {
    for (const ns of Object.values(names)) spawnSync('ip', ['netns', 'delete', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--inner')) {
  await inner();
} else {
  const counts = process.argv.slice(2).map(Number);
  outer(counts.length > 0 ? counts.sort((x, y) => x - y) : [10, 250, 1000]);
}
