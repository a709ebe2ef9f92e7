/**
 * What one gathering of the tcp_sockets source costs at 1k/10k/100k TCP sockets: the kernel's read of
 * /proc/net/tcp{,6} and our parse of it, and whole gatherings over procfs and over netlink SOCK_DIAG, next to
 * node_exporter's netlink tcpstat collector measured in the same namespace.
 *
 * Usage (root): npm run bench -- tcp-table [--sockets 1000,10000,100000] [--runs N]
 * The outer process creates a namespace and re-executes itself inside it (`--inner`); the sockets are loopback
 * connections held by child processes (half client side, half server side: every server side has its own peer).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import {
  createHostFs,
  newTcpSocketTally,
  resolveConfig,
  tallyTcpTable,
  createTcpSocketsSource,
  servicePeerCounts,
  topRemotePeers,
  type SourceContext,
} from '@kappie/collector';
import pino from 'pino';
import { holdSockets } from './scrape-bench';
import { median, renderTable } from './stats';

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const NODE_EXPORTER_PORT = 19101;
const LITTLE_ENDIAN = true;

function ms(seconds: number): string {
  return (seconds * 1000).toFixed(1);
}

/** Median wall time of `run` over `runs` calls after one warm-up call (JIT, page cache), in seconds. */
function time(runs: number, run: () => unknown): number {
  run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    run();
    samples.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return median(samples);
}

async function nodeExporterTcpstatSeconds(runs: number): Promise<number> {
  const child: ChildProcess = spawn(
    NODE_EXPORTER,
    [
      `--web.listen-address=127.0.0.1:${NODE_EXPORTER_PORT}`,
      '--collector.disable-defaults',
      '--web.disable-exporter-metrics',
      '--collector.tcpstat',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    const samples: number[] = [];
    for (let attempt = 0; samples.length < runs && attempt < runs + 100; attempt++) {
      try {
        const body = await (await fetch(`http://127.0.0.1:${NODE_EXPORTER_PORT}/metrics`)).text();
        const match = /node_scrape_collector_duration_seconds\{collector="tcpstat"\} (\S+)/.exec(body);
        if (match) samples.push(Number(match[1]));
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100)); // not listening yet
      }
    }
    return median(samples);
  } finally {
    child.kill('SIGTERM');
  }
}

interface Row {
  readonly sockets: number;
  readonly tableBytes: number;
  readonly read: number;
  readonly parseStates: number;
  readonly parsePeers: number;
  readonly gatheringDefault: number;
  readonly gatheringFull: number;
  readonly netlinkFull: number;
  readonly note: string;
  readonly nodeExporter: number;
}

async function measure(sockets: number, runs: number): Promise<Row> {
  const holders = await holdSockets(sockets);
  try {
    const config = resolveConfig({}, {});
    const hostFs = createHostFs(config);
    const tables = () => [hostFs.readProcBytes('net/tcp'), hostFs.readProcBytes('net/tcp6')] as const;
    const [v4, v6] = tables();
    const parse = (withPeers: boolean) => () => {
      const tally = newTcpSocketTally(withPeers);
      tallyTcpTable(v4, 'tcp', { family: 'tcp', littleEndian: LITTLE_ENDIAN }, tally);
      tallyTcpTable(v6, 'tcp6', { family: 'tcp6', littleEndian: LITTLE_ENDIAN }, tally);
      if (withPeers) topRemotePeers(servicePeerCounts(tally), 20, LITTLE_ENDIAN);
    };
    const context = (flags: Record<string, string>): SourceContext => ({
      config: resolveConfig(flags, {}),
      fs: hostFs,
      log: pino({ level: 'silent' }),
    });
    const defaults = context({});
    const full = context({ tcpScanMaxSockets: '100000000', tcpSocketReader: 'procfs' });
    const netlinkFull = context({ tcpScanMaxSockets: '100000000', tcpSocketReader: 'netlink' });
    const tcpSocketsSource = createTcpSocketsSource();
    const gatheringDefault = time(runs, () => tcpSocketsSource.collect(defaults));
    const note = tcpSocketsSource.note?.() ?? '';
    return {
      sockets,
      tableBytes: v4.length + v6.length,
      read: time(runs, tables),
      parseStates: time(runs, parse(false)),
      parsePeers: time(runs, parse(true)),
      gatheringDefault,
      gatheringFull: time(runs, () => tcpSocketsSource.collect(full)),
      netlinkFull: time(runs, () => tcpSocketsSource.collect(netlinkFull)),
      note,
      nodeExporter: await nodeExporterTcpstatSeconds(runs),
    };
  } finally {
    for (const holder of holders) holder.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function inner(counts: readonly number[], runs: number): Promise<void> {
  spawnSync('ip', ['link', 'set', 'lo', 'up']);
  // Ephemeral ports above the holders' listening ports (20 000 + 10 per holder), which they would otherwise take.
  fs.writeFileSync('/proc/sys/net/ipv4/ip_local_port_range', '20500 65000');
  const rows: Row[] = [];
  for (const count of counts) {
    process.stderr.write(`${count} sockets...\n`);
    rows.push(await measure(count, runs));
  }
  const table = renderTable({
    headers: [
      'sockets',
      'tcp+tcp6 MB',
      'kernel read ms',
      'parse states ms',
      'parse states+peers+top-K ms',
      'gathering, defaults (netlink, cap 50k) ms',
      'gathering, procfs, no cap ms',
      'gathering, netlink, no cap ms',
      'node_exporter tcpstat ms',
      'note (default cap)',
    ],
    rows: rows.map((row) => [
      String(row.sockets),
      (row.tableBytes / 1e6).toFixed(2),
      ms(row.read),
      ms(row.parseStates),
      ms(row.parsePeers),
      ms(row.gatheringDefault),
      ms(row.gatheringFull),
      ms(row.netlinkFull),
      ms(row.nodeExporter),
      row.note || '—',
    ]),
  });
  process.stdout.write(`${table}\n\nmedians of ${runs} runs each\n`);
}

function option(args: readonly string[], name: string, fallback: string): string {
  const index = args.indexOf(name);
  return index >= 0 && args[index + 1] !== undefined ? args[index + 1]! : fallback;
}

export async function main(args: readonly string[]): Promise<void> {
  if (args[0] === '--inner') {
    await inner(
      option(args, '--sockets', '1000,10000,100000').split(',').map(Number),
      Number(option(args, '--runs', '9')),
    );
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('the tcp-table benchmark needs root (a network namespace)');
  const namespace = `kb${randomBytes(3).toString('hex')}`;
  spawnSync('ip', ['netns', 'add', namespace]);
  try {
    const result = spawnSync('ip', ['netns', 'exec', namespace, process.execPath, __filename, '--inner', ...args], {
      stdio: 'inherit',
    });
    if (result.status !== 0) process.exitCode = result.status ?? 1;
  } finally {
    spawnSync('ip', ['netns', 'delete', namespace]);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`tcp-table bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
