/**
 * Drop storm: how many kfree_skb drops per second the drops source's tracefs events strategy (its stream mode, status
 * drop_reasons) ingests exactly, and what it costs.
 *
 * In a namespace of its own, a sender (python3: a tight sendto loop, one process per --senders) sends 1-byte UDP
 * datagrams at rising target rates, either to a closed port (reason NO_SOCKET, ingress) or to a port an nft rule
 * drops on output (NETFILTER_DROP, egress; every such drop also records a kernel stack for its direction). The real
 * collector (`kappie serve`, only the drops source, pinned to tracefs events) runs in the same namespace. Per rate we
 * report the rate the kernel really dropped at (its own counter: Udp NoPorts or the nft rule counter), the events we
 * counted, lost events (kappie_source_lost_events), our count minus the kernel's, and the collector's CPU time per
 * 100k drops (utime+stime from /proc/PID/stat).
 *
 * tracefs sees every namespace: drops elsewhere on the machine during the run add to our count (never subtract).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderTable } from './stats';

const REPO = path.join(__dirname, '..', '..');
const COLLECTOR_CLI = path.join(REPO, 'collector', 'dist', 'cli.js');
const PORT = 10095;
const CLOSED_PORT = 9;
const NFT_PORT = 7778;
const CLOCK_TICKS = 100;

type Target = 'closed' | 'nft';

function sh(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args as string[], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

const SENDER = `
import socket, sys, time
rate, seconds, port = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
addr, send, payload = ('127.0.0.1', port), s.sendto, b'x'
sent, start, total = 0, time.perf_counter(), int(rate * seconds)
while sent < total and time.perf_counter() - start < seconds:
    target = min(int((time.perf_counter() - start) * rate) + 256, total, sent + 256)
    while sent < target:
        try:
            send(payload, addr)
        except OSError:
            pass
        sent += 1
print(sent)
`;

/** [user, system] CPU seconds of a process: system time is mostly the kernel formatting trace_pipe text for us. */
function cpuSeconds(pid: number): [number, number] {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return [Number(fields[11]) / CLOCK_TICKS, Number(fields[12]) / CLOCK_TICKS];
}

async function scrape(ns: string): Promise<string> {
  return sh('ip', ['netns', 'exec', ns, 'curl', '-sS', '--fail', `http://127.0.0.1:${PORT}/metrics`]);
}

/** Sum of every series starting with `prefix` (e.g. one reason over all directions). */
function series(text: string, prefix: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

function kernelCount(ns: string, target: Target): number {
  if (target === 'closed') {
    const lines = sh('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp']).split('\n');
    const header = lines.findIndex((l) => l.startsWith('Udp: InDatagrams'));
    return Number(lines[header + 1]!.split(' ')[lines[header]!.split(' ').indexOf('NoPorts')]);
  }
  const match = /counter packets (\d+)/.exec(
    sh('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'kappiebench']),
  );
  return Number(match![1]);
}

async function waitReady(ns: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if (child.exitCode !== null) throw new Error('collector exited');
    const ok = spawnSync('ip', ['netns', 'exec', ns, 'curl', '-sf', `http://127.0.0.1:${PORT}/readyz`]).status === 0;
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('collector not ready');
}

function runSenders(ns: string, rate: number, seconds: number, port: number, senders: number): Promise<number> {
  const each = Math.ceil(rate / senders);
  return Promise.all(
    Array.from(
      { length: senders },
      () =>
        new Promise<number>((resolve, reject) => {
          const child = spawn('ip', [
            'netns',
            'exec',
            ns,
            'python3',
            '-c',
            SENDER,
            String(each),
            String(seconds),
            String(port),
          ]);
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
          child.on('exit', (code) =>
            code === 0 ? resolve(Number(out.trim())) : reject(new Error(`sender exited ${code}`)),
          );
        }),
    ),
  ).then((counts) => counts.reduce((a, b) => a + b, 0));
}

interface Row {
  readonly target: Target;
  readonly rate: number;
  readonly seconds: number;
  readonly kernel: number;
  readonly ours: number;
  /** Of ours, those with the right direction (the rest: unknown, beyond the netfilter stack budget). */
  readonly directed: number;
  readonly lost: number;
  readonly cpu: [number, number];
}

async function measure(
  ns: string,
  pid: number,
  target: Target,
  rate: number,
  seconds: number,
  senders: number,
): Promise<Row> {
  const reason = target === 'closed' ? 'NO_SOCKET' : 'NETFILTER_DROP';
  const direction = target === 'closed' ? 'ingress' : 'egress';
  const countPrefix = `kappie_drop_count{reason="${reason}"`;
  const knownPrefix = `kappie_drop_count{reason="${reason}",direction="${direction}"`;
  const lostPrefix = 'kappie_source_lost_events{source="drop_reasons"';
  const before = await scrape(ns);
  const kernelBefore = kernelCount(ns, target);
  const cpuBefore = cpuSeconds(pid);
  const started = process.hrtime.bigint();
  await runSenders(ns, rate, seconds, target === 'closed' ? CLOSED_PORT : NFT_PORT, senders);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  // Let the collector's 100 ms poll catch up before the scrape (the scrape drains too).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = await scrape(ns);
  return {
    target,
    rate,
    seconds: elapsed,
    kernel: kernelCount(ns, target) - kernelBefore,
    ours: series(after, countPrefix) - series(before, countPrefix),
    directed: series(after, knownPrefix) - series(before, knownPrefix),
    lost: series(after, lostPrefix) - series(before, lostPrefix),
    cpu: cpuSeconds(pid).map((value, i) => value - cpuBefore[i]!) as [number, number],
  };
}

function option(args: readonly string[], name: string, fallback: string): string {
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] !== undefined ? args[index + 1]! : fallback;
}

export async function main(args: readonly string[]): Promise<void> {
  if (!fs.existsSync(COLLECTOR_CLI)) throw new Error('collector not built: npm run build');
  const rates = option(args, 'rates', '10000,30000,60000,100000,200000').split(',').map(Number);
  const seconds = Number(option(args, 'seconds', '5'));
  const senders = Number(option(args, 'senders', '1'));
  const targets = option(args, 'targets', 'closed,nft').split(',') as Target[];
  const ns = `kb${randomBytes(4).toString('hex')}`;
  const instance = `kb${randomBytes(4).toString('hex')}`;
  sh('ip', ['netns', 'add', ns]);
  let collector: ChildProcess | undefined;
  try {
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['netns', 'exec', ns, 'nft', 'add', 'table', 'inet', 'kappiebench']);
    sh('ip', ['netns', 'exec', ns, 'nft', 'add chain inet kappiebench output { type filter hook output priority 0; }']);
    sh('ip', ['netns', 'exec', ns, 'nft', `add rule inet kappiebench output udp dport ${NFT_PORT} counter drop`]);
    collector = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        COLLECTOR_CLI,
        'serve',
        '--listen',
        `127.0.0.1:${PORT}`,
        '--sources',
        'drops',
        // Events only: without tracefs the source is down and the run stops at "not ready", instead of measuring the
        // kernel counters.
        '--drop-reader',
        'tracefs',
        '--tracefs-instance',
        instance,
        '--log-level',
        'warn',
        // Every scrape gathers: before/after scrapes around a storm are a moment apart.
        '--scrape-reuse-window',
        '0',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    await waitReady(ns, collector);
    const rows: Row[] = [];
    for (const target of targets) {
      for (const rate of rates) {
        const row = await measure(ns, collector.pid!, target, rate, seconds, senders);
        rows.push(row);
        process.stderr.write(`${target} ${rate}/s: kernel ${row.kernel}, ours ${row.ours}, lost ${row.lost}\n`);
      }
    }
    process.stdout.write(
      `${renderTable({
        headers: [
          'drop',
          'target rate/s',
          'kernel drops/s',
          'events ingested/s',
          'kernel count',
          'our count',
          'ours - kernel',
          'with direction',
          'lost events',
          'collector CPU ms per 100k drops (user + system)',
        ],
        rows: rows.map((r) => [
          r.target === 'closed' ? 'closed port (NO_SOCKET)' : 'nft output drop (NETFILTER_DROP)',
          String(r.rate),
          (r.kernel / r.seconds).toFixed(0),
          (r.ours / r.seconds).toFixed(0),
          String(r.kernel),
          String(r.ours),
          String(r.ours - r.kernel),
          r.ours > 0 ? `${((100 * r.directed) / r.ours).toFixed(0)}%` : '-',
          String(r.lost),
          r.kernel > 0 ? r.cpu.map((value) => ((value * 1000 * 100_000) / r.kernel).toFixed(0)).join(' + ') : '-',
        ]),
      })}\n`,
    );
  } finally {
    if (collector && collector.exitCode === null) {
      await new Promise((resolve) => {
        collector!.once('exit', resolve);
        collector!.kill('SIGTERM');
      });
    }
    spawnSync('ip', ['netns', 'delete', ns]);
  }
}
