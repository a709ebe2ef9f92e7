#!/usr/bin/env node
/**
 * Datapath cost of the TCP flag counters: iperf3 throughput across a veth pair between two namespaces we create,
 * with and without the nftables table `kappie` in the client's namespace, in the same run, modes interleaved and
 * their order rotated every repetition so drift (other load on the machine, thermal) hits every mode alike.
 *
 * Modes:
 *   none   no table
 *   kappie the collector's table, built by the collector's own createTableScript (one map lookup per TCP segment)
 *   rules9 the alternative we did not choose: 9 rules per hook, one per flag, each with its own counter
 *
 * Workloads: `bulk` (iperf3 defaults: GSO hands netfilter packets of up to 64 KB, so few packets per GB) and
 * `nogso` (gso_max_segs 1 on both veth ends: every MSS-sized segment is its own packet through netfilter, the
 * per-packet worst case for a given throughput).
 *
 * Usage (root; build the collector first: npm run build):
 *   node bench/src/flags-datapath.mjs [--seconds 4] [--repetitions 5] [--workloads bulk,nogso]
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const ruleset = require(path.join(here, '..', '..', 'collector', 'dist', 'sources', 'linux', 'nft-ruleset.js'));
const { DEFAULT_POD_INTERFACES } = require(path.join(here, '..', '..', 'collector', 'dist', 'config.js'));

const { values: options } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    repetitions: { type: 'string', default: '5' },
    workloads: { type: 'string', default: 'bulk,nogso' },
  },
});
const SECONDS = Number(options.seconds);
const REPETITIONS = Number(options.repetitions);
/** gso_max_segs of the veth ends per workload (65535 is the kernel default). */
const WORKLOADS = { bulk: 65535, nogso: 1 };
const workloads = options.workloads.split(',');
for (const name of workloads) if (!(name in WORKLOADS)) throw new Error(`--workloads: unknown "${name}" (bulk, nogso)`);
const MODES = ['none', 'kappie', 'rules9'];

function run(command, args, input) {
  const result = spawnSync(command, args, { encoding: 'utf8', input, timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

const suffix = randomBytes(3).toString('hex');
const client = `kbc${suffix}`;
const server = `kbs${suffix}`;
const CLIENT_ADDR = '198.19.250.1';
const SERVER_ADDR = '198.19.250.2';
let iperfServer;

function setUp() {
  run('ip', ['netns', 'add', client]);
  run('ip', ['netns', 'add', server]);
  run('ip', ['link', 'add', `kbv${suffix}`, 'type', 'veth', 'peer', 'name', `kbw${suffix}`]);
  run('ip', ['link', 'set', `kbv${suffix}`, 'netns', client, 'name', 'eth0']);
  run('ip', ['link', 'set', `kbw${suffix}`, 'netns', server, 'name', 'eth0']);
  for (const [ns, addr] of [
    [client, CLIENT_ADDR],
    [server, SERVER_ADDR],
  ]) {
    run('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  iperfServer = spawn('ip', ['netns', 'exec', server, 'iperf3', '-s', '-B', SERVER_ADDR], { stdio: 'ignore' });
}

function tearDown() {
  iperfServer?.kill('SIGKILL');
  spawnSync('ip', ['netns', 'delete', client]);
  spawnSync('ip', ['netns', 'delete', server]);
}

/** The rejected design: per hook, one rule with a counter per flag (9 rule evaluations per TCP segment). */
function nineRulesScript() {
  const conditions = {
    SYN: 'tcp flags & (syn | ack) == syn',
    SYNACK: 'tcp flags & (syn | ack) == syn | ack',
    ACK: 'tcp flags & (syn | ack) == ack',
    FIN: 'tcp flags & fin == fin',
    RST: 'tcp flags & rst == rst',
    PSH: 'tcp flags & psh == psh',
    URG: 'tcp flags & urg == urg',
    ECE: 'tcp flags & ecn == ecn',
    CWR: 'tcp flags & cwr == cwr',
  };
  const chain = (name, hook, priority, ifKey, typeKey) => [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority ${priority}; policy accept;`,
    `    meta l4proto != tcp return`,
    `    meta ${typeKey} loopback return`,
    `    ${ifKey} { ${DEFAULT_POD_INTERFACES.map((glob) => `"${glob}"`).join(', ')} } return`,
    ...Object.values(conditions).map((condition) => `    ${condition} counter`),
    '  }',
  ];
  return [
    'table inet kappie {}',
    'delete table inet kappie',
    'table inet kappie {',
    ...chain('ingress', 'prerouting', -300, 'iifname', 'iiftype'),
    ...chain('egress', 'postrouting', 300, 'oifname', 'oiftype'),
    '}',
    '',
  ].join('\n');
}

function applyMode(mode) {
  const nft = (script) => run('ip', ['netns', 'exec', client, 'nft', '-f', '-'], script);
  if (mode === 'none') nft(ruleset.deleteTableScript());
  else if (mode === 'kappie') nft(ruleset.createTableScript(DEFAULT_POD_INTERFACES));
  else nft(nineRulesScript());
}

/** TCP segments the table counted (sum of every counter's packets), to show the table really saw the traffic. */
function countedSegments(mode) {
  if (mode === 'none') return 0;
  const text = run('ip', ['netns', 'exec', client, 'nft', '-j', 'list', 'table', 'inet', 'kappie']);
  let sum = 0;
  for (const entry of JSON.parse(text).nftables) {
    if (entry.counter) sum += entry.counter.packets;
    for (const expr of entry.rule?.expr ?? [])
      if (typeof expr.counter?.packets === 'number') sum += expr.counter.packets;
  }
  return sum;
}

function iperf() {
  const args = ['netns', 'exec', client, 'iperf3', '-c', SERVER_ADDR, '-t', String(SECONDS), '-J'];
  for (let attempt = 0; ; attempt++) {
    try {
      const { end } = JSON.parse(run('ip', args));
      // CPU time both iperf3 processes used (user + system, which includes the softirq work of the veth path run
      // in their context) per GB moved: unlike throughput, it hardly depends on what else the machine is doing.
      const cpuSeconds =
        ((end.cpu_utilization_percent.host_total + end.cpu_utilization_percent.remote_total) / 100) *
        end.sum_received.seconds;
      return { rate: end.sum_received.bits_per_second, cpuPerGB: cpuSeconds / (end.sum_received.bytes / 1e9) };
    } catch (error) {
      // The server takes a moment to listen, and serves one client at a time.
      if (attempt >= 10) throw error;
      spawnSync('sleep', ['0.3']);
    }
  }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stdev = (xs) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const gbps = (bits) => (bits / 1e9).toFixed(2);

function main() {
  setUp();
  try {
    const results = {};
    for (const workload of workloads) {
      results[workload] = Object.fromEntries(MODES.map((mode) => [mode, { rates: [], cpu: [], counted: 0 }]));
      for (const ns of [client, server]) {
        run('ip', ['-n', ns, 'link', 'set', 'eth0', 'gso_max_segs', String(WORKLOADS[workload])]);
      }
      for (let rep = 0; rep < REPETITIONS; rep++) {
        const order = MODES.map((_, i) => MODES[(i + rep) % MODES.length]);
        for (const mode of order) {
          applyMode(mode);
          const { rate, cpuPerGB } = iperf();
          results[workload][mode].rates.push(rate);
          results[workload][mode].cpu.push(cpuPerGB);
          results[workload][mode].counted += countedSegments(mode);
          console.error(
            `${workload} rep ${rep + 1}/${REPETITIONS} ${mode.padEnd(6)} ${gbps(rate)} Gbit/s ${cpuPerGB.toFixed(3)} CPU-s/GB`,
          );
        }
      }
      applyMode('none');
    }
    const lines = [
      `iperf3 ${SECONDS} s x ${REPETITIONS} repetitions per mode, modes interleaved; kernel ${run('uname', ['-r']).trim()}, ` +
        `${run('nproc', []).trim()} CPUs, nft ${run('nft', ['--version']).trim()}`,
      '',
      '| workload | mode | throughput mean (Gbit/s) | stdev | loss vs none (mean) | median | loss vs none (median) | CPU-s per GB (mean ± stdev) | CPU cost vs none | counter hits (sum) |',
      '|---|---|---|---|---|---|---|---|---|---|',
    ];
    for (const workload of workloads) {
      const baseline = mean(results[workload].none.rates);
      const baselineCpu = mean(results[workload].none.cpu);
      for (const mode of MODES) {
        const { rates, cpu, counted } = results[workload][mode];
        const percent = (x) => `${(x * 100).toFixed(2)} %`;
        const loss = mode === 'none' ? '' : percent((baseline - mean(rates)) / baseline);
        const baselineMedian = median(results[workload].none.rates);
        const medianLoss = mode === 'none' ? '' : percent((baselineMedian - median(rates)) / baselineMedian);
        const extraCpu = mode === 'none' ? '' : percent((mean(cpu) - baselineCpu) / baselineCpu);
        lines.push(
          `| ${workload} | ${mode} | ${gbps(mean(rates))} | ${gbps(stdev(rates))} | ${loss} | ${gbps(median(rates))} | ${medianLoss} | ` +
            `${mean(cpu).toFixed(3)} ± ${stdev(cpu).toFixed(3)} | ${extraCpu} | ${mode === 'none' ? '' : counted} |`,
        );
      }
    }
    console.log(lines.join('\n'));
  } finally {
    tearDown();
  }
}

process.on('SIGINT', () => {
  tearDown();
  process.exit(130);
});
main();
