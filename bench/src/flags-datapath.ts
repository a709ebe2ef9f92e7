/**
 * Datapath cost of the TCP flag counters: iperf3 throughput across a veth pair between two namespaces we create,
 * with and without the nftables table `kappie` in the client's namespace, in the same run, the modes interleaved
 * and their order rotated every repetition so drift (other load on the machine) hits every mode alike.
 *
 * Modes:
 *   none     no table
 *   kappie   the collector's own table (createTableScript: one compare and one map lookup per TCP segment)
 *   previous the collector's table before the inline uplink compares (flags-chains.ts' previousTableScript: an
 *            explicit protocol check and an `uplinks` set lookup before the counting rule)
 *   rules9   the alternative we did not choose: per hook 9 rules, one per flag, each with its own counter
 *
 * Workloads: `bulk` (iperf3 defaults: GSO hands netfilter packets of up to 64 KB, so few packets per GB) and
 * `nogso` (gso_max_segs 1 on both veth ends: every MSS-sized segment is its own packet through netfilter, the
 * per-packet worst case for a given throughput).
 *
 * Loss is reported three ways: from the means, from the medians, and as the median over repetitions of each
 * repetition's own ratio to `none` (the modes of one repetition run back to back).
 * Besides throughput it reports CPU seconds per GB (user + system time of both iperf3 processes, which includes the
 * veth softirq work run in their context): unlike throughput, it hardly depends on what else the machine runs. And,
 * for the tables with named counters, the chain passes per data segment: each data segment passes the egress chain,
 * each ACK the receiver sends back the ingress chain (delayed and stretched ACKs: fewer than one per segment). That
 * ratio is what flags-rule-cost's `--passes-per-segment` takes.
 *
 * Usage (root): npm run bench -- flags-datapath [--seconds 5] [--repetitions 8] [--workloads bulk,nogso]
 *   [--modes none,kappie,previous,rules9]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createTableScript, DEFAULT_POD_INTERFACES, deleteTableScript, type UplinkPlan } from '@kappie/collector';

/** The uplink the collector's table counts on in this benchmark: the client's veth (named eth0 there). */
export const BENCH_UPLINK_PLAN: UplinkPlan = { inet: ['eth0'], bridge: [] };
import { previousTableScript } from './flags-chains';
import { mean, median, medianConfidenceInterval, renderTable, stdev } from './stats';

/** gso_max_segs of both veth ends per workload (65535 is the kernel default). */
const WORKLOADS: Record<string, number> = { bulk: 65_535, nogso: 1 };
const MODES = ['none', 'kappie', 'previous', 'rules9'] as const;
type Mode = (typeof MODES)[number];

const CLIENT_ADDR = '198.19.250.1';
const SERVER_ADDR = '198.19.250.2';

function sh(command: string, args: readonly string[], input?: string): string {
  const result = spawnSync(command, args as string[], { encoding: 'utf8', input, timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

/** The rejected design: per hook, one rule with a counter per flag (9 rule evaluations per TCP segment). */
function nineRulesScript(): string {
  const conditions = [
    'tcp flags & (syn | ack) == syn',
    'tcp flags & (syn | ack) == syn | ack',
    'tcp flags & (syn | ack) == ack',
    'tcp flags & fin == fin',
    'tcp flags & rst == rst',
    'tcp flags & psh == psh',
    'tcp flags & urg == urg',
    'tcp flags & ecn == ecn',
    'tcp flags & cwr == cwr',
  ];
  const pods = DEFAULT_POD_INTERFACES.map((glob) => `"${glob}"`).join(', ');
  const chain = (name: string, hook: string, priority: number, ifKey: string, typeKey: string) => [
    `  chain ${name} {`,
    `    type filter hook ${hook} priority ${priority}; policy accept;`,
    '    meta l4proto != tcp return',
    `    meta ${typeKey} loopback return`,
    `    ${ifKey} { ${pods} } return`,
    ...conditions.map((condition) => `    ${condition} counter`),
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

class VethPair {
  private readonly suffix = randomBytes(3).toString('hex');
  readonly client = `kbc${this.suffix}`;
  readonly server = `kbs${this.suffix}`;
  private iperfServer: ChildProcess | undefined;

  setUp(): void {
    sh('ip', ['netns', 'add', this.client]);
    sh('ip', ['netns', 'add', this.server]);
    sh('ip', ['link', 'add', `kbv${this.suffix}`, 'type', 'veth', 'peer', 'name', `kbw${this.suffix}`]);
    sh('ip', ['link', 'set', `kbv${this.suffix}`, 'netns', this.client, 'name', 'eth0']);
    sh('ip', ['link', 'set', `kbw${this.suffix}`, 'netns', this.server, 'name', 'eth0']);
    for (const [ns, address] of [
      [this.client, CLIENT_ADDR],
      [this.server, SERVER_ADDR],
    ] as const) {
      sh('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    this.iperfServer = spawn('ip', ['netns', 'exec', this.server, 'iperf3', '-s', '-B', SERVER_ADDR], {
      stdio: 'ignore',
    });
  }

  tearDown(): void {
    this.iperfServer?.kill('SIGKILL');
    spawnSync('ip', ['netns', 'delete', this.client]);
    spawnSync('ip', ['netns', 'delete', this.server]);
  }

  setGsoMaxSegs(segments: number): void {
    for (const ns of [this.client, this.server]) {
      sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'gso_max_segs', String(segments)]);
    }
  }

  applyMode(mode: Mode): void {
    const script =
      mode === 'none'
        ? deleteTableScript()
        : mode === 'kappie'
          ? createTableScript(BENCH_UPLINK_PLAN)
          : mode === 'previous'
            ? previousTableScript(BENCH_UPLINK_PLAN)
            : nineRulesScript();
    sh('ip', ['netns', 'exec', this.client, 'nft', '-f', '-'], script);
  }

  /**
   * What the table counted since it was loaded: `hits`, the sum of every counter (segments for the tables with named
   * counters, flag hits for `rules9`: proof the table saw traffic), and for the tables with named counters the
   * segments each chain counted (`egress_*`: the client's data segments, `ingress_*`: the ACKs coming back).
   */
  counted(mode: Mode): { hits: number; ingress: number; egress: number } {
    const counted = { hits: 0, ingress: 0, egress: 0 };
    if (mode === 'none') return counted;
    const text = sh('ip', ['netns', 'exec', this.client, 'nft', '-j', 'list', 'table', 'inet', 'kappie']);
    for (const entry of (JSON.parse(text) as { nftables: Record<string, unknown>[] }).nftables) {
      const named = entry['counter'] as { name?: string; packets?: number } | undefined;
      if (typeof named?.packets === 'number') {
        counted.hits += named.packets;
        if (named.name?.startsWith('ingress_')) counted.ingress += named.packets;
        if (named.name?.startsWith('egress_')) counted.egress += named.packets;
      }
      const rule = entry['rule'] as { expr?: { counter?: { packets?: number } }[] } | undefined;
      for (const expr of rule?.expr ?? []) {
        if (typeof expr.counter?.packets === 'number') counted.hits += expr.counter.packets;
      }
    }
    return counted;
  }

  iperf(seconds: number): { rate: number; cpuPerGB: number } {
    const args = ['netns', 'exec', this.client, 'iperf3', '-c', SERVER_ADDR, '-t', String(seconds), '-J'];
    for (let attempt = 0; ; attempt++) {
      try {
        const { end } = JSON.parse(sh('ip', args)) as {
          end: {
            sum_received: { bits_per_second: number; bytes: number; seconds: number };
            cpu_utilization_percent: { host_total: number; remote_total: number };
          };
        };
        const cpu = end.cpu_utilization_percent;
        const cpuSeconds = ((cpu.host_total + cpu.remote_total) / 100) * end.sum_received.seconds;
        return { rate: end.sum_received.bits_per_second, cpuPerGB: cpuSeconds / (end.sum_received.bytes / 1e9) };
      } catch (error) {
        // The server takes a moment to listen, and serves one client at a time.
        if (attempt >= 10) throw error;
        spawnSync('sleep', ['0.3']);
      }
    }
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv as string[],
    options: {
      seconds: { type: 'string', default: '5' },
      repetitions: { type: 'string', default: '8' },
      workloads: { type: 'string', default: 'bulk,nogso' },
      modes: { type: 'string', default: MODES.join(',') },
    },
  });
  const seconds = Number(values.seconds);
  const repetitions = Number(values.repetitions);
  const workloads = values.workloads.split(',');
  const modes = values.modes.split(',') as Mode[];
  for (const mode of modes)
    if (!MODES.includes(mode)) throw new Error(`--modes: unknown "${mode}" (${MODES.join(', ')})`);
  if (modes[0] !== 'none') throw new Error('--modes: the first mode must be none (the baseline)');
  for (const name of workloads) {
    if (!(name in WORKLOADS)) throw new Error(`--workloads: unknown "${name}" (${Object.keys(WORKLOADS).join(', ')})`);
  }
  if (!(seconds > 0) || !(repetitions > 0)) throw new Error('--seconds and --repetitions: positive numbers');

  const loadBefore = sh('cat', ['/proc/loadavg']).split(' ').slice(0, 3).join(' ');
  const pair = new VethPair();
  const onSignal = () => {
    pair.tearDown();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  pair.setUp();
  const rows: string[][] = [];
  try {
    for (const workload of workloads) {
      pair.setGsoMaxSegs(WORKLOADS[workload]!);
      const results = Object.fromEntries(
        modes.map((mode) => [mode, { rates: [] as number[], cpu: [] as number[], hits: 0, ingress: 0, egress: 0 }]),
      ) as Record<Mode, { rates: number[]; cpu: number[]; hits: number; ingress: number; egress: number }>;
      for (let rep = 0; rep < repetitions; rep++) {
        for (let i = 0; i < modes.length; i++) {
          const mode = modes[(i + rep) % modes.length]!;
          pair.applyMode(mode);
          const { rate, cpuPerGB } = pair.iperf(seconds);
          results[mode].rates.push(rate);
          results[mode].cpu.push(cpuPerGB);
          const counted = pair.counted(mode);
          results[mode].hits += counted.hits;
          results[mode].ingress += counted.ingress;
          results[mode].egress += counted.egress;
          process.stderr.write(
            `${workload} ${rep + 1}/${repetitions} ${mode.padEnd(6)} ${(rate / 1e9).toFixed(2)} Gbit/s ` +
              `${cpuPerGB.toFixed(3)} CPU-s/GB\n`,
          );
        }
      }
      pair.applyMode('none');
      const base = results.none;
      const change = (value: number, baseline: number) => `${(((value - baseline) / baseline) * 100).toFixed(2)}%`;
      // Each repetition runs every mode back to back, so its ratio to `none` cancels slow drift in the machine's load.
      // With its 95% interval (the sign test's, stats.ts): "< 2%" holds when the interval's upper end is below 2%.
      const pairedLoss = (rates: number[], baseRates: number[]) => {
        const losses = rates.map((rate, rep) => (1 - rate / baseRates[rep]!) * 100);
        const interval = medianConfidenceInterval(losses);
        const within =
          interval === undefined
            ? ' (too few repetitions for a 95% interval)'
            : ` [${interval.low.toFixed(2)}%, ${interval.high.toFixed(2)}%]`;
        return `${median(losses).toFixed(2)}%${within}`;
      };
      const loss = (value: number, baseline: number) => `${(((baseline - value) / baseline) * 100).toFixed(2)}%`;
      for (const mode of modes) {
        const { rates, cpu, hits, ingress, egress } = results[mode];
        const gbps = (bits: number) => (bits / 1e9).toFixed(2);
        const baseline = mode === 'none';
        rows.push([
          workload,
          mode,
          `${gbps(mean(rates))} ± ${gbps(stdev(rates))}`,
          baseline ? '' : loss(mean(rates), mean(base.rates)),
          gbps(median(rates)),
          baseline ? '' : loss(median(rates), median(base.rates)),
          baseline ? '' : pairedLoss(rates, base.rates),
          `${mean(cpu).toFixed(3)} ± ${stdev(cpu).toFixed(3)}`,
          baseline ? '' : change(mean(cpu), mean(base.cpu)),
          baseline ? '' : String(hits),
          // Chain passes per data segment: the segment on egress, plus the ACKs coming back per segment on ingress.
          egress > 0 ? ((egress + ingress) / egress).toFixed(2) : '',
        ]);
      }
    }
  } finally {
    pair.tearDown();
    process.off('SIGINT', onSignal);
  }
  process.stdout.write(
    `iperf3 ${seconds} s x ${repetitions} repetitions per mode, interleaved; kernel ${sh('uname', ['-r']).trim()}, ` +
      `${sh('nproc', []).trim()} CPUs, ${sh('nft', ['--version']).trim()}, load average at start: ${loadBefore}\n\n`,
  );
  process.stdout.write(
    `${renderTable({
      headers: [
        'workload',
        'mode',
        'throughput mean ± stdev (Gbit/s)',
        'loss vs none (means)',
        'median (Gbit/s)',
        'loss vs none (medians)',
        'paired loss (median over repetitions) [95% interval]',
        'CPU-s per GB mean ± stdev',
        'CPU per GB vs none',
        'counter hits',
        'chain passes per data segment',
      ],
      rows,
    })}\n`,
  );
}
