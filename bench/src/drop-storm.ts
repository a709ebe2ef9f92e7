/**
 * Drop storm inside the pod's own limits: the real collector (`kappie serve`, only the drops source, tracefs events
 * in stream mode) runs in cgroup v1 `cpu`, `cpuacct` and `memory` groups limited like the DaemonSet's container
 * (resources.limits of deploy/kubernetes/base/daemonset-linux.yaml: CFS quota for the CPU limit, limit_in_bytes for
 * the memory limit), once per stream reader (--drop-stream-format raw, text), while senders drop UDP datagrams at
 * rising rates.
 *
 * In a network namespace of its own, `--senders` python3 processes send 1-byte UDP datagrams to a closed port (reason
 * NO_SOCKET, ingress) at each target rate for `--seconds`; `max` sends as fast as they can (the highest rate this
 * machine produces with the collector running). Per rate it reports the kernel's own count (Udp NoPorts of the
 * namespace), what the collector counted (kappie_drop_count{reason="NO_SOCKET"} delta) and lost
 * (kappie_source_lost_events_total delta: per-CPU ring buffer overruns), the check counted + lost = kernel, the CPU the
 * collector's cgroup used (cpuacct.usage) per drop and as a share of a core, the CFS throttling (cpu.stat
 * nr_throttled / nr_periods, throttled_time), and at the end the peak memory (memory.max_usage_in_bytes, and VmHWM).
 *
 * tracefs sees every namespace: drops elsewhere on the machine during a step add to "counted" (never subtract), so
 * on a shared machine counted + lost may exceed the kernel count of our namespace by those.
 *
 * The cgroups, the namespace and the tracefs instance are removed at the end, also on failure or Ctrl-C.
 *
 * Usage (root): npm run bench -- drop-storm [--rates 10000,50000,100000,max] [--seconds 5] [--senders 2]
 *   [--formats raw,text] [--cpu-limit 500m] [--memory-limit 512Mi]   (limits default to the DaemonSet's)
 *   [--sources drops|all]   (`all`: every Linux source, as the DaemonSet runs it; its nft table is named after the run)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { shebangNodeFlags } from '@kappie/collector';
import { renderTable } from './stats';

const REPO = path.join(__dirname, '..', '..');
const COLLECTOR_CLI = path.join(REPO, 'collector', 'dist', 'cli.js');
const DAEMONSET = path.join(REPO, 'deploy', 'kubernetes', 'base', 'daemonset-linux.yaml');
const CGROUP_ROOT = '/sys/fs/cgroup';
const PORT = 10095;
const CLOSED_PORT = 9;
const CFS_PERIOD_US = 100_000;

function sh(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args as string[], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/**
 * A rate-limited sender (or unlimited with rate 0): 1-byte datagrams to 127.0.0.1:port; prints what it sent and for
 * how long (s).
 */
const SENDER = `
import socket, sys, time
rate, seconds, port = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
addr, send, payload = ('127.0.0.1', port), s.sendto, b'x'
sent, start = 0, time.perf_counter()
total = int(rate * seconds) if rate > 0 else 1 << 62
while sent < total:
    now = time.perf_counter() - start
    if now >= seconds:
        break
    target = min(int(now * rate) + 256, total, sent + 256) if rate > 0 else sent + 256
    while sent < target:
        try:
            send(payload, addr)
        except OSError:
            pass
        sent += 1
print(sent, time.perf_counter() - start)
`;

/** Kubernetes quantities of the DaemonSet's limits: CPU in cores (`500m`), memory in bytes (`512Mi`). */
export function parseCpuQuantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(text.trim());
  if (!match) throw new Error(`CPU quantity "${text}": expected cores (0.5) or millicores (500m)`);
  return Number(match[1]) / (match[2] === 'm' ? 1000 : 1);
}

export function parseMemoryQuantity(text: string): number {
  const units: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 };
  const match = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(text.trim());
  if (!match) throw new Error(`memory quantity "${text}": expected bytes with an optional Ki/Mi/Gi suffix`);
  return Number(match[1]) * units[match[2] ?? '']!;
}

function daemonSetLimits(): { cpu: string; memory: string } {
  const manifest = parseYaml(fs.readFileSync(DAEMONSET, 'utf8')) as {
    spec: { template: { spec: { containers: { resources?: { limits?: { cpu?: string; memory?: string } } }[] } } };
  };
  const limits = manifest.spec.template.spec.containers[0]?.resources?.limits;
  if (!limits?.cpu || !limits.memory) throw new Error(`${DAEMONSET}: the collector container has no cpu/memory limits`);
  return { cpu: String(limits.cpu), memory: String(limits.memory) };
}

/** cgroup v1 groups of one collector run: cpu (quota), cpuacct (usage), memory (limit, peak). */
class LimitedCgroup {
  readonly dirs: Record<'cpu' | 'cpuacct' | 'memory', string>;

  constructor(name: string, cores: number, memoryBytes: number) {
    this.dirs = {
      cpu: path.join(CGROUP_ROOT, 'cpu', name),
      cpuacct: path.join(CGROUP_ROOT, 'cpuacct', name),
      memory: path.join(CGROUP_ROOT, 'memory', name),
    };
    for (const [controller, dir] of Object.entries(this.dirs)) {
      if (!fs.existsSync(path.dirname(dir)))
        throw new Error(`cgroup v1 ${controller} is not mounted at ${path.dirname(dir)}`);
      fs.mkdirSync(dir);
    }
    fs.writeFileSync(path.join(this.dirs.cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
    fs.writeFileSync(path.join(this.dirs.cpu, 'cpu.cfs_quota_us'), String(Math.round(cores * CFS_PERIOD_US)));
    fs.writeFileSync(path.join(this.dirs.memory, 'memory.limit_in_bytes'), String(memoryBytes));
  }

  /** A shell prefix that moves itself into the groups, then execs the command (its children stay in them). */
  joinCommand(): string {
    return Object.values(this.dirs)
      .map((dir) => `echo $$ > ${dir}/cgroup.procs`)
      .join(' && ');
  }

  cpuNanoseconds(): number {
    return Number(fs.readFileSync(path.join(this.dirs.cpuacct, 'cpuacct.usage'), 'utf8'));
  }

  throttling(): { periods: number; throttled: number; throttledNs: number } {
    const stat = new Map(
      fs
        .readFileSync(path.join(this.dirs.cpu, 'cpu.stat'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(' ') as [string, string]),
    );
    return {
      periods: Number(stat.get('nr_periods')),
      throttled: Number(stat.get('nr_throttled')),
      throttledNs: Number(stat.get('throttled_time')),
    };
  }

  peakMemoryBytes(): number {
    return Number(fs.readFileSync(path.join(this.dirs.memory, 'memory.max_usage_in_bytes'), 'utf8'));
  }

  /** Removes the groups (their processes must have exited); a group that stays names itself in the error. */
  remove(): void {
    const left: string[] = [];
    for (const dir of Object.values(this.dirs)) {
      for (let attempt = 0; attempt < 50 && fs.existsSync(dir); attempt += 1) {
        try {
          fs.rmdirSync(dir);
        } catch {
          spawnSync('sleep', ['0.1']);
        }
      }
      if (fs.existsSync(dir)) left.push(dir);
    }
    if (left.length > 0) throw new Error(`could not remove cgroups ${left.join(', ')}`);
  }
}

function scrape(ns: string): string {
  return sh('ip', ['netns', 'exec', ns, 'curl', '-sS', '--fail', `http://127.0.0.1:${PORT}/metrics`]);
}

/** Sum of every series starting with `prefix` (e.g. one reason over all directions). */
function series(text: string, prefix: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

function noPorts(ns: string): number {
  const lines = sh('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp']).split('\n');
  const header = lines.findIndex((l) => l.startsWith('Udp: InDatagrams'));
  return Number(lines[header + 1]!.split(' ')[lines[header]!.split(' ').indexOf('NoPorts')]);
}

async function waitReady(ns: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 150; i += 1) {
    if (child.exitCode !== null) throw new Error(`collector exited with ${child.exitCode}`);
    if (spawnSync('ip', ['netns', 'exec', ns, 'curl', '-sf', `http://127.0.0.1:${PORT}/readyz`]).status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('collector not ready after 30 s');
}

/** Runs the senders; resolves with the longest sending time (s), which the drop rate is over. */
function runSenders(ns: string, rate: number, seconds: number, senders: number): Promise<number> {
  const each = rate === 0 ? 0 : Math.ceil(rate / senders);
  return Promise.all(
    Array.from(
      { length: senders },
      () =>
        new Promise<number>((resolve, reject) => {
          const args = [
            'netns',
            'exec',
            ns,
            'python3',
            '-c',
            SENDER,
            String(each),
            String(seconds),
            String(CLOSED_PORT),
          ];
          const child = spawn('ip', args);
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
          child.on('exit', (code) =>
            code === 0 ? resolve(Number(out.trim().split(' ')[1])) : reject(new Error(`sender exited ${code}`)),
          );
        }),
    ),
  ).then((times) => Math.max(...times));
}

interface Step {
  readonly format: string;
  readonly rate: string;
  /** From the first datagram to the scrape after the catch-up wait (CPU is over this). */
  readonly seconds: number;
  /** While the senders sent (the drop rate is over this; python's start-up is not in it). */
  readonly sendingSeconds: number;
  readonly kernel: number;
  readonly counted: number;
  readonly lost: number;
  readonly cpuNs: number;
  readonly periods: number;
  readonly throttled: number;
  readonly throttledNs: number;
}

interface FormatRun {
  readonly format: string;
  readonly reader: string;
  readonly steps: Step[];
  readonly peakMemoryBytes: number;
  readonly vmHwmKb: number;
  readonly idleCpuNsPerSecond: number;
}

function vmHwmKb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

/** The pid of the node process: sh execs `ip netns exec`, which execs node, so it is the child's. */
function collectorPid(child: ChildProcess): number {
  return child.pid!;
}

async function runFormat(
  format: string,
  options: { rates: string[]; seconds: number; senders: number; cores: number; memoryBytes: number; sources: string },
): Promise<FormatRun> {
  const id = randomBytes(4).toString('hex');
  const ns = `kds${id}`;
  const instance = `kds${id}`;
  const cgroup = new LimitedCgroup(`kappie-drop-storm-${id}`, options.cores, options.memoryBytes);
  let collector: ChildProcess | undefined;
  let cleanedUp = false;
  const cleanUp = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    if (collector && collector.exitCode === null && collector.signalCode === null) {
      await new Promise((resolve) => {
        collector!.once('exit', resolve);
        collector!.kill('SIGTERM');
        setTimeout(() => collector!.kill('SIGKILL'), 10_000).unref();
      });
    }
    spawnSync('ip', ['netns', 'delete', ns]);
    cgroup.remove();
  };
  const onSignal = () => void cleanUp().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const node = [
      process.execPath,
      // The bin's Node.js flags, as users run it.
      ...shebangNodeFlags(fs.readFileSync(COLLECTOR_CLI, 'utf8').split('\n', 1)[0] ?? ''),
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${PORT}`,
      ...(options.sources === 'all' ? ['--nft-table', `kds${id}`] : ['--sources', options.sources]),
      '--drop-reader',
      'tracefs',
      '--drop-stream-format',
      format,
      '--tracefs-instance',
      instance,
      '--log-level',
      'info',
      '--scrape-reuse-window',
      '0',
      // The benchmark reads counter deltas from the first step on: a reason first seen mid-run must not read 0 for
      // the default 90 s hold (series-birth.ts), which made every step count 0.
      '--new-series-hold',
      '0',
    ];
    // Into the groups first: `ip netns exec` mounts a fresh /sys, without the cgroup mounts.
    collector = spawn('sh', ['-c', `${cgroup.joinCommand()} && exec "$@"`, 'sh', 'ip', 'netns', 'exec', ns, ...node], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The log says which reader runs; warnings and errors are passed on.
    let log = '';
    const onLog = (chunk: Buffer) => {
      if (log.length < 1 << 20) log += chunk.toString();
      for (const line of chunk.toString().split('\n'))
        if (/"level":(40|50|60)/.test(line)) process.stderr.write(`${line}\n`);
    };
    collector.stdout!.on('data', onLog);
    collector.stderr!.on('data', onLog);
    await waitReady(ns, collector);
    // Sources start at the first gathering: scrape once, then the log says which reader runs.
    scrape(ns);
    for (let i = 0; i < 50 && !/through trace_pipe/.test(log); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const reader = /through (trace_pipe_raw|trace_pipe)/.exec(log)?.[1] ?? 'unknown';
    const idleStart = cgroup.cpuNanoseconds();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const idleCpuNsPerSecond = (cgroup.cpuNanoseconds() - idleStart) / 3;
    const steps: Step[] = [];
    for (const rate of options.rates) {
      const before = scrape(ns);
      const kernelBefore = noPorts(ns);
      const cpuBefore = cgroup.cpuNanoseconds();
      const throttleBefore = cgroup.throttling();
      const started = process.hrtime.bigint();
      const sendingSeconds = await runSenders(ns, rate === 'max' ? 0 : Number(rate), options.seconds, options.senders);
      // The collector's 100 ms poll catches up (a throttled one takes longer); the scrape drains too.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const after = scrape(ns);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const throttle = cgroup.throttling();
      const step: Step = {
        format,
        rate,
        seconds,
        sendingSeconds,
        kernel: noPorts(ns) - kernelBefore,
        counted:
          series(after, 'kappie_drop_count{reason="NO_SOCKET"') -
          series(before, 'kappie_drop_count{reason="NO_SOCKET"'),
        lost: series(after, 'kappie_source_lost_events_total{') - series(before, 'kappie_source_lost_events_total{'),
        cpuNs: cgroup.cpuNanoseconds() - cpuBefore,
        periods: throttle.periods - throttleBefore.periods,
        throttled: throttle.throttled - throttleBefore.throttled,
        throttledNs: throttle.throttledNs - throttleBefore.throttledNs,
      };
      steps.push(step);
      process.stderr.write(
        `${format} ${rate}: kernel ${step.kernel}, counted ${step.counted}, lost ${step.lost}, ` +
          `cpu ${(step.cpuNs / 1e6).toFixed(0)} ms, throttled ${step.throttled}/${step.periods}\n`,
      );
    }
    const result: FormatRun = {
      format,
      reader,
      steps,
      peakMemoryBytes: cgroup.peakMemoryBytes(),
      vmHwmKb: vmHwmKb(collectorPid(collector)),
      idleCpuNsPerSecond,
    };
    await cleanUp();
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
}

export async function main(args: readonly string[]): Promise<void> {
  if (!fs.existsSync(COLLECTOR_CLI)) throw new Error('collector not built: npm run build');
  const limits = daemonSetLimits();
  const { values } = parseArgs({
    args: args as string[],
    options: {
      rates: { type: 'string', default: '10000,25000,50000,100000,max' },
      seconds: { type: 'string', default: '5' },
      senders: { type: 'string', default: '2' },
      formats: { type: 'string', default: 'raw,text' },
      sources: { type: 'string', default: 'drops' },
      'cpu-limit': { type: 'string', default: limits.cpu },
      'memory-limit': { type: 'string', default: limits.memory },
    },
  });
  const rates = values.rates.split(',');
  for (const rate of rates)
    if (rate !== 'max' && !(Number(rate) > 0)) throw new Error(`--rates: "${rate}" is not a rate or max`);
  const formats = values.formats.split(',');
  for (const format of formats)
    if (!['raw', 'text'].includes(format)) throw new Error(`--formats: "${format}": raw or text`);
  const options = {
    rates,
    seconds: Number(values.seconds),
    senders: Number(values.senders),
    cores: parseCpuQuantity(values['cpu-limit']),
    memoryBytes: parseMemoryQuantity(values['memory-limit']),
    sources: values.sources,
  };
  const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const runs: FormatRun[] = [];
  for (const format of formats) runs.push(await runFormat(format, options));
  const loadAfter = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

  const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
  process.stdout.write(
    `Collector in cgroup v1 cpu (quota ${values['cpu-limit']} = ${Math.round(options.cores * CFS_PERIOD_US)} us per ` +
      `${CFS_PERIOD_US} us) + memory (limit ${values['memory-limit']}); ${options.senders} senders, ${options.seconds} s ` +
      `per rate; collector sources: ${options.sources}; kernel ${sh('uname', ['-r']).trim()}, ${sh('nproc', []).trim()} CPUs; load average ${loadBefore} at ` +
      `start, ${loadAfter} at the end.\n\n`,
  );
  process.stdout.write(
    `${renderTable({
      headers: [
        'reader',
        'target rate/s',
        'kernel drops/s',
        'kernel count',
        'counted',
        'lost',
        'counted + lost - kernel',
        'CPU µs per drop',
        'CPU µs per drop, net of idle',
        'CPU used (cores)',
        'throttled periods',
        'throttled ms',
      ],
      rows: runs.flatMap((run) =>
        run.steps.map((s) => [
          run.reader,
          s.rate,
          (s.kernel / s.sendingSeconds).toFixed(0),
          String(s.kernel),
          String(s.counted),
          String(s.lost),
          String(s.counted + s.lost - s.kernel),
          s.kernel > 0 ? (s.cpuNs / 1000 / s.kernel).toFixed(2) : '-',
          s.kernel > 0 ? ((s.cpuNs - run.idleCpuNsPerSecond * s.seconds) / 1000 / s.kernel).toFixed(2) : '-',
          (s.cpuNs / 1e9 / s.seconds).toFixed(3),
          `${s.throttled} / ${s.periods}`,
          (s.throttledNs / 1e6).toFixed(0),
        ]),
      ),
    })}\n\n`,
  );
  process.stdout.write(
    `${renderTable({
      headers: ['reader', 'peak memory (memory.max_usage_in_bytes) MiB', 'peak RSS (VmHWM) MiB', 'idle CPU (cores)'],
      rows: runs.map((run) => [
        run.reader,
        mib(run.peakMemoryBytes),
        (run.vmHwmKb / 1024).toFixed(1),
        (run.idleCpuNsPerSecond / 1e9).toFixed(4),
      ]),
    })}\n`,
  );
}
