/**
 * Scrape cost of the Kappie collector against Debian's prometheus-node-exporter (netdev, netstat, sockstat, softnet
 * and tcpstat collectors only), side by side in the same run, with 1k/10k/100k TCP sockets and 10/250/1000 pod
 * interfaces (veths) in a network namespace of our own.
 *
 * For each case: median scrape latency of each and their ratio (kappie / node_exporter), CPU seconds per scrape
 * (utime+stime of the exporter process over the measured scrapes), RSS after the scrapes, and series count.
 *
 * Usage (root): npm run bench -- scrape [--cases sockets,interfaces|CASE,...] [--scrapes N] [--warmup N]
 * CASE is a case's name with a hyphen for the space (`1k-sockets`, `10-interfaces`).
 * Each case runs in a fresh pair of network namespaces: the outer process creates them and re-executes itself inside
 * the case's namespace (`--inner`), so that both exporters, the socket holders and the scraping client share its
 * loopback, and no case inherits another's sockets (100k closed loopback connections leave ~50k TIME_WAIT sockets
 * for a minute, which every later case in the same namespace would walk: both exporters, at 5-10 times the cost).
 *
 * Warm-up: each exporter is scraped `--warmup` times (default 10) before the measured scrapes. Kappie's first ~15
 * scrapes after start run while V8 is still compiling its baseline code (about 1.3 times a settled scrape here);
 * Prometheus scrapes a collector for days, so the settled cost is what a node pays. `--warmup 2` gives the old
 * figures.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shebangNodeFlags } from '@kappie/collector';
import { median, percent, type Table, renderTable } from './stats';

const REPO = path.join(__dirname, '..', '..');
const COLLECTOR_CLI = path.join(REPO, 'collector', 'dist', 'cli.js');
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const KAPPIE_PORT = 19093;
const NODE_EXPORTER_PORT = 19100;

interface Case {
  readonly name: string;
  readonly sockets: number;
  readonly podInterfaces: number;
}

const SOCKET_CASES: Case[] = [1_000, 10_000, 100_000].map((n) => ({
  name: `${n / 1000}k sockets`,
  sockets: n,
  podInterfaces: 0,
}));
const INTERFACE_CASES: Case[] = [10, 250, 1000].map((n) => ({ name: `${n} interfaces`, sockets: 0, podInterfaces: n }));

function sh(command: string, args: readonly string[], input?: string): string {
  const result = spawnSync(command, args as string[], { encoding: 'utf8', input, maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/* ---------------------------------------------------------------- measuring one exporter ------------------------- */

interface ProcessCost {
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

const CLOCK_TICKS = Number(sh('getconf', ['CLK_TCK']).trim());

function processCost(pid: number): ProcessCost {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds, rssBytes: Number(rss?.[1] ?? 0) * 1024 };
}

interface ExporterResult {
  readonly medianSeconds: number;
  readonly cpuSecondsPerScrape: number;
  readonly rssBytes: number;
  readonly series: number;
}

async function scrape(url: string): Promise<{ seconds: number; body: string }> {
  const started = process.hrtime.bigint();
  const response = await fetch(url);
  const body = await response.text();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, body };
}

interface Target {
  readonly url: string;
  readonly pid: number;
}

/**
 * Scrapes both exporters alternately (a, b, a, b, ...) so that both see the same kernel state and the same load from
 * whatever else runs on the machine; CPU is each process's own utime+stime over its measured scrapes.
 */
async function measurePair(
  a: Target,
  b: Target,
  scrapes: number,
  warmup: number,
): Promise<[ExporterResult, ExporterResult]> {
  for (let i = 0; i < warmup; i++) {
    await scrape(a.url); // warm-up: JIT, first-gathering setup, page cache
    await scrape(b.url);
  }
  const targets = [a, b];
  const before = targets.map((t) => processCost(t.pid));
  const latencies: number[][] = [[], []];
  const bodies = ['', ''];
  for (let i = 0; i < scrapes; i++) {
    for (const [index, target] of targets.entries()) {
      const result = await scrape(target.url);
      latencies[index]!.push(result.seconds);
      bodies[index] = result.body;
    }
  }
  const results = targets.map((target, index): ExporterResult => {
    const after = processCost(target.pid);
    return {
      medianSeconds: median(latencies[index]!),
      cpuSecondsPerScrape: (after.cpuSeconds - before[index]!.cpuSeconds) / scrapes,
      rssBytes: after.rssBytes,
      series: bodies[index]!.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length,
    };
  });
  return [results[0]!, results[1]!];
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: exporter exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not answer`);
}

/** The Node flags of the `kappie` bin's shebang, so the bench runs the collector as users do. */
function collectorNodeFlags(): string[] {
  return shebangNodeFlags(fs.readFileSync(COLLECTOR_CLI, 'utf8').split('\n', 1)[0] ?? '');
}

function startKappie(): ChildProcess {
  return spawn(
    process.execPath,
    [
      ...collectorNodeFlags(),
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${KAPPIE_PORT}`,
      '--log-level',
      'warn',
      // Every scrape gathers: the benchmark measures a gathering, not the reuse window.
      '--scrape-reuse-window',
      '0',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

function startNodeExporter(): ChildProcess {
  return spawn(
    NODE_EXPORTER,
    [
      `--web.listen-address=127.0.0.1:${NODE_EXPORTER_PORT}`,
      '--collector.disable-defaults',
      '--web.disable-exporter-metrics',
      '--collector.netdev',
      '--collector.netstat',
      '--collector.sockstat',
      '--collector.softnet',
      '--collector.tcpstat',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/* ---------------------------------------------------------------- building a case --------------------------------- */

const HOLDER = `
const net = require('node:net');
const [pairs, firstPort, ports] = process.argv.slice(1).map(Number);
const servers = [];
const sockets = [];
let listening = 0;
for (let p = 0; p < ports; p++) {
  const server = net.createServer((s) => { s.on('error', () => {}); sockets.push(s); });
  server.listen(firstPort + p, '127.0.0.1', () => { if (++listening === ports) connect(); });
  servers.push(server);
}
let open = 0;
function connect() {
  let started = 0;
  const next = () => {
    while (started < pairs && started - open < 500) {
      const c = net.connect(firstPort + (started % ports), '127.0.0.1');
      c.on('error', (e) => { console.error(e.message); process.exit(1); });
      c.on('connect', () => { open++; if (open === pairs) console.log('ready'); else next(); });
      sockets.push(c);
      started++;
    }
  };
  next();
}
setInterval(() => {}, 1 << 30);
`;

/** Holds `sockets` TCP sockets (half client, half server side of loopback connections) plus the listeners. */
export async function holdSockets(sockets: number): Promise<ChildProcess[]> {
  // Sockets per holder process: under the fd hard limit (20 000 here, and raising it needs CAP_SYS_RESOURCE).
  const perProcess = 18_000;
  const holders: ChildProcess[] = [];
  for (let offset = 0, index = 0; offset < sockets; offset += perProcess, index++) {
    const pairs = Math.min(perProcess, sockets - offset) / 2;
    const child = spawn(
      'sh',
      [
        '-c',
        `ulimit -n "$(ulimit -Hn)" && exec "${process.execPath}" -e "$0" "$@"`,
        HOLDER,
        String(pairs),
        String(20_000 + index * 10),
        '8',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    holders.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`socket holder exited with ${code}`)));
    });
  }
  return holders;
}

/** Creates `count` veth pairs whose pod side (veth*) stays here and whose other side moves to `peerNamespace`. */
function createPodInterfaces(count: number, peerNamespace: string): void {
  if (count === 0) return;
  const commands: string[] = [];
  for (let i = 0; i < count; i++) {
    commands.push(`link add veth${i.toString(16).padStart(6, '0')} type veth peer name p${i} netns ${peerNamespace}`);
    commands.push(`link set veth${i.toString(16).padStart(6, '0')} up`);
  }
  sh('ip', ['-batch', '-'], commands.join('\n') + '\n');
}

function removePodInterfaces(count: number): void {
  if (count === 0) return;
  const commands = Array.from({ length: count }, (_, i) => `link del veth${i.toString(16).padStart(6, '0')}`);
  sh('ip', ['-batch', '-'], commands.join('\n') + '\n');
}

/* ---------------------------------------------------------------- running ------------------------------------------ */

interface CaseResult {
  readonly benchCase: Case;
  readonly kappie: ExporterResult;
  readonly nodeExporter: ExporterResult;
}

async function runCase(benchCase: Case, scrapes: number, warmup: number, peerNamespace: string): Promise<CaseResult> {
  const holders = benchCase.sockets > 0 ? await holdSockets(benchCase.sockets) : [];
  createPodInterfaces(benchCase.podInterfaces, peerNamespace);
  const kappie = startKappie();
  const nodeExporter = startNodeExporter();
  try {
    await waitForHttp(`http://127.0.0.1:${KAPPIE_PORT}/healthz`, kappie);
    await waitForHttp(`http://127.0.0.1:${NODE_EXPORTER_PORT}/`, nodeExporter);
    const [k, n] = await measurePair(
      { url: `http://127.0.0.1:${KAPPIE_PORT}/metrics`, pid: kappie.pid! },
      { url: `http://127.0.0.1:${NODE_EXPORTER_PORT}/metrics`, pid: nodeExporter.pid! },
      scrapes,
      warmup,
    );
    return { benchCase, kappie: k, nodeExporter: n };
  } finally {
    kappie.kill('SIGTERM');
    nodeExporter.kill('SIGTERM');
    for (const holder of holders) holder.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    removePodInterfaces(benchCase.podInterfaces);
  }
}

function report(results: readonly CaseResult[]): string {
  const table: Table = {
    headers: [
      'case',
      'kappie median ms',
      'node_exporter median ms',
      'ratio',
      'kappie CPU ms/scrape',
      'node_exporter CPU ms/scrape',
      'kappie RSS MiB',
      'node_exporter RSS MiB',
      'kappie series',
      'node_exporter series',
    ],
    rows: results.map(({ benchCase, kappie, nodeExporter }) => [
      benchCase.name,
      (kappie.medianSeconds * 1000).toFixed(1),
      (nodeExporter.medianSeconds * 1000).toFixed(1),
      (kappie.medianSeconds / nodeExporter.medianSeconds).toFixed(2),
      (kappie.cpuSecondsPerScrape * 1000).toFixed(1),
      (nodeExporter.cpuSecondsPerScrape * 1000).toFixed(1),
      (kappie.rssBytes / 2 ** 20).toFixed(1),
      (nodeExporter.rssBytes / 2 ** 20).toFixed(1),
      String(kappie.series),
      String(nodeExporter.series),
    ]),
  };
  return renderTable(table);
}

/** The cases `--cases` names: `sockets`, `interfaces`, or case names with a hyphen for the space. */
function selectCases(names: readonly string[]): Case[] {
  const all = [...SOCKET_CASES, ...INTERFACE_CASES];
  const idOf = (benchCase: Case) => benchCase.name.replace(/ /g, '-');
  const chosen = new Set<Case>();
  for (const name of names) {
    const group = name === 'sockets' ? SOCKET_CASES : name === 'interfaces' ? INTERFACE_CASES : undefined;
    const found = group ?? all.filter((benchCase) => idOf(benchCase) === name);
    if (found.length === 0) {
      throw new Error(`unknown case "${name}" (sockets, interfaces, ${all.map(idOf).join(', ')})`);
    }
    for (const benchCase of found) chosen.add(benchCase);
  }
  return all.filter((benchCase) => chosen.has(benchCase));
}

const RESULT_PREFIX = 'scrape-bench-result ';

/** Runs one case inside its namespace and writes its result as one JSON line on stdout. */
async function inner(caseName: string, scrapes: number, warmup: number, peerNamespace: string): Promise<void> {
  sh('ip', ['link', 'set', 'lo', 'up']);
  // 100k loopback connections need more ephemeral ports than the default range gives one address.
  // Ephemeral ports above the holders' listening ports (20 000 + 10 per holder), which they would otherwise take.
  fs.writeFileSync('/proc/sys/net/ipv4/ip_local_port_range', '20500 65000');
  const [benchCase] = selectCases([caseName]);
  const measured = benchCase!.sockets >= 100_000 ? Math.max(3, Math.floor(scrapes / 3)) : scrapes;
  const result = await runCase(benchCase!, measured, warmup, peerNamespace);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

function summary(results: readonly CaseResult[]): string {
  const latency = results.map((r) => r.kappie.medianSeconds / r.nodeExporter.medianSeconds);
  const cpu = results.map((r) => r.kappie.cpuSecondsPerScrape / r.nodeExporter.cpuSecondsPerScrape);
  return (
    `worst latency ratio ${Math.max(...latency).toFixed(2)}; best ${Math.min(...latency).toFixed(2)}; ` +
    `kappie peak RSS ${(Math.max(...results.map((r) => r.kappie.rssBytes)) / 2 ** 20).toFixed(1)} MiB; ` +
    `CPU ratio range ${percent(Math.min(...cpu))}–${percent(Math.max(...cpu))}`
  );
}

/** Runs each chosen case in a fresh pair of namespaces (see the module comment) and prints the table. */
function outer(args: readonly string[]): void {
  if (process.getuid?.() !== 0) throw new Error('the scrape benchmark needs root (network namespaces, veths)');
  if (!fs.existsSync(NODE_EXPORTER))
    throw new Error(`${NODE_EXPORTER} missing: apt-get install prometheus-node-exporter`);
  if (!fs.existsSync(COLLECTOR_CLI)) throw new Error('collector not built: npm run build');
  const cases = selectCases(option(args, '--cases', 'sockets,interfaces').split(','));
  const scrapes = option(args, '--scrapes', '15');
  const warmup = option(args, '--warmup', '10');
  const results: CaseResult[] = [];
  for (const benchCase of cases) {
    process.stderr.write(`case ${benchCase.name}...\n`);
    const suffix = randomBytes(3).toString('hex');
    const benchNs = `kb${suffix}`;
    const peerNs = `kp${suffix}`;
    sh('ip', ['netns', 'add', benchNs]);
    sh('ip', ['netns', 'add', peerNs]);
    try {
      const run = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          benchNs,
          process.execPath,
          __filename,
          '--inner',
          peerNs,
          benchCase.name.replace(/ /g, '-'),
          scrapes,
          warmup,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 24 },
      );
      const line = run.stdout.split('\n').find((text) => text.startsWith(RESULT_PREFIX));
      if (run.status !== 0 || line === undefined) {
        throw new Error(`case ${benchCase.name} failed (exit ${run.status}): ${run.stdout.trim()}`);
      }
      results.push(JSON.parse(line.slice(RESULT_PREFIX.length)) as CaseResult);
    } finally {
      spawnSync('ip', ['netns', 'delete', benchNs]);
      spawnSync('ip', ['netns', 'delete', peerNs]);
    }
  }
  process.stdout.write(
    `Each case in fresh namespaces; ${warmup} warm-up and ${scrapes} measured scrapes of each exporter ` +
      `(a third of them at 100k sockets), alternated.\n\n${report(results)}\n\n${summary(results)}\n`,
  );
}

function option(args: readonly string[], name: string, fallback: string): string {
  const index = args.indexOf(name);
  return index >= 0 && args[index + 1] !== undefined ? args[index + 1]! : fallback;
}

export async function main(args: readonly string[]): Promise<void> {
  if (args[0] === '--inner') {
    const [, peerNamespace, caseName, scrapes, warmup] = args;
    await inner(caseName!, Number(scrapes), Number(warmup), peerNamespace!);
  } else {
    outer(args);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`scrape bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
