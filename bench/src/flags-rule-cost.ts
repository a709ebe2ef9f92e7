/**
 * CPU cost per TCP segment of the flag-counting table, measured as CPU time rather than throughput (throughput on a
 * shared 2-vCPU machine varies by 15-35% between runs, far more than the 2% to be shown; a process's own CPU time per
 * packet varies much less with other load).
 *
 * In a network namespace of its own, one python3 process sends `--packets` crafted TCP segments (an ACK, a raw
 * IPPROTO_TCP socket) to an address behind an ifb interface: each segment passes the `egress` chain of the table on
 * postrouting (a non-loopback, non-pod interface: the counted path) and is then freed by an ifb device (no drop). The
 * sender's own CPU time (user + system, CLOCK_PROCESS_CPUTIME_ID: ns, not clock ticks) for the whole loop is measured with no table, with the collector's
 * table (`kappie`) and with its one-rule candidate (`onerule`, see flags-datapath.ts), interleaved and rotated every
 * repetition. Per mode: the median CPU per segment, and the median over repetitions of each repetition's difference to
 * `none` (the table's own cost per segment). Finally that cost is set against the CPU a segment costs in the
 * flags-datapath `nogso` worst case (its CPU-s per GB, given with --nogso-cpu-per-gb), which is the loss a CPU-bound
 * path would see.
 *
 * Where the cost goes: the modes `hook`, `l4` and `uplinks` are the collector's table with each chain cut after 0, 1
 * and 2 of its 3 rules (the netfilter hook and an empty chain; + `meta l4proto != tcp return`; + the `uplinks` set
 * lookup), so consecutive modes differ by one rule. They count nothing, so the check that the chain saw every
 * segment is made for the counting modes only.
 *
 * Usage (root): npm run bench -- flags-rule-cost [--packets 200000] [--repetitions 15] [--nogso-cpu-per-gb 6.3]
 *   [--modes none,kappie,onerule]   (also hook, l4, uplinks; `none` is always measured: costs are differences to it)
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createTableScript, deleteTableScript, type UplinkPlan } from '@kappie/collector';
import { oneRuleScript } from './flags-datapath';

/** The table counts on the ifb device the segments are sent to (the counted path). */
const RULE_COST_PLAN: UplinkPlan = { inet: ['d0'], bridge: [] };
import { median, renderTable } from './stats';

const MODES = ['none', 'hook', 'l4', 'uplinks', 'kappie', 'onerule'] as const;
type Mode = (typeof MODES)[number];
/** How many of each chain's rules the prefix modes keep. */
const PREFIX_RULES: Partial<Record<Mode, number>> = { hook: 0, l4: 1, uplinks: 2 };
/** A full-size segment of the nogso workload: MSS 1448 on a 1500-byte MTU veth (timestamps on). */
const SEGMENT_PAYLOAD_BYTES = 1448;

const SENDER = `
import socket, struct, sys, time
count = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
# source port, destination port, seq, ack, data offset 5 words, flags ACK, window, checksum (unchecked), urgent
segment = struct.pack('!HHIIBBHHH', 40000, 5201, 1, 1, 5 << 4, 0x10, 65535, 0, 0)
addr, send = ('198.19.251.2', 0), s.sendto
start = time.process_time_ns()
for i in range(count):
    send(segment, addr)
print((time.process_time_ns() - start) / 1e9)
`;

function sh(command: string, args: readonly string[], input?: string): string {
  const result = spawnSync(command, args as string[], { encoding: 'utf8', input, timeout: 300_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

/** The collector's table with each chain's rules after the first `rules` left out (the chain headers stay). */
function chainPrefixScript(rules: number): string {
  let kept = 0;
  return createTableScript(RULE_COST_PLAN)
    .split('\n')
    .filter((line) => {
      if (/^\s+chain /.test(line)) kept = 0;
      const isRule = /^\s{4}(meta l4proto|[io]ifname|counter name)/.test(line);
      return !isRule || ++kept <= rules;
    })
    .join('\n');
}

function script(mode: Mode): string {
  if (mode === 'none') return deleteTableScript();
  if (mode === 'kappie') return createTableScript(RULE_COST_PLAN);
  if (mode === 'onerule') return oneRuleScript(RULE_COST_PLAN);
  return chainPrefixScript(PREFIX_RULES[mode]!);
}

/** Modes whose chain counts every segment it sees (the others stop before the counting rule). */
const COUNTING: readonly Mode[] = ['kappie', 'onerule'];

/** Segments the egress chain counted (sum of the named counters of `egress_*`). */
function egressCount(ns: string): number {
  const text = sh('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'counters', 'table', 'inet', 'kappie']);
  let sum = 0;
  for (const entry of (JSON.parse(text) as { nftables: { counter?: { name: string; packets: number } }[] }).nftables) {
    if (entry.counter?.name.startsWith('egress_')) sum += entry.counter.packets;
  }
  return sum;
}

export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv as string[],
    options: {
      packets: { type: 'string', default: '200000' },
      repetitions: { type: 'string', default: '15' },
      'nogso-cpu-per-gb': { type: 'string', default: '6.3' },
      modes: { type: 'string', default: 'none,kappie,onerule' },
    },
  });
  const chosen = new Set<string>(['none', ...values.modes.split(',')]);
  for (const mode of chosen) {
    if (!(MODES as readonly string[]).includes(mode))
      throw new Error(`--modes: unknown "${mode}" (${MODES.join(', ')})`);
  }
  const modes = MODES.filter((mode) => chosen.has(mode));
  const packets = Number(values.packets);
  const repetitions = Number(values.repetitions);
  const nogsoCpuPerGB = Number(values['nogso-cpu-per-gb']);
  if (!(packets > 0) || !(repetitions > 0) || !(nogsoCpuPerGB > 0)) throw new Error('positive numbers expected');
  const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const ns = `kfr${randomBytes(3).toString('hex')}`;
  sh('ip', ['netns', 'add', ns]);
  const perSegment = Object.fromEntries(MODES.map((mode) => [mode, [] as number[]])) as Record<Mode, number[]>;
  try {
    // An ifb device frees what is sent to it directly (consume_skb: not a drop, so no kfree_skb event for the tracefs
    // instances of collectors running elsewhere on the machine); arp off, so no neighbour resolution either.
    sh('ip', ['-n', ns, 'link', 'add', 'd0', 'type', 'ifb']);
    sh('ip', ['-n', ns, 'addr', 'add', '198.19.251.1/24', 'dev', 'd0']);
    sh('ip', ['-n', ns, 'link', 'set', 'd0', 'arp', 'off', 'up']);
    for (let rep = 0; rep < repetitions; rep += 1) {
      for (let i = 0; i < modes.length; i += 1) {
        const mode = modes[(i + rep) % modes.length]!;
        sh('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], script(mode));
        const seconds = Number(sh('ip', ['netns', 'exec', ns, 'python3', '-c', SENDER, String(packets)]).trim());
        if (COUNTING.includes(mode)) {
          const counted = egressCount(ns);
          if (counted < packets) throw new Error(`${mode}: the egress chain counted ${counted} of ${packets} segments`);
        }
        perSegment[mode].push((seconds * 1e9) / packets);
        process.stderr.write(
          `${rep + 1}/${repetitions} ${mode.padEnd(7)} ${((seconds * 1e9) / packets).toFixed(0)} ns/segment\n`,
        );
      }
    }
  } finally {
    spawnSync('ip', ['netns', 'delete', ns]);
  }
  const loadAfter = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  // The nogso worst case: CPU per full-size data segment, its ACK included (both iperf3 ends, flags-datapath).
  const nogsoNsPerSegment = (nogsoCpuPerGB / (1e9 / SEGMENT_PAYLOAD_BYTES)) * 1e9;
  const rows = modes.map((mode) => {
    const values = perSegment[mode];
    const sorted = [...values].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    if (mode === 'none')
      return [mode, median(values).toFixed(0), `${q(0.25).toFixed(0)}-${q(0.75).toFixed(0)}`, '', '', ''];
    const diffs = values.map((value, rep) => value - perSegment.none[rep]!).sort((a, b) => a - b);
    const dq = (p: number) => diffs[Math.min(diffs.length - 1, Math.floor(p * diffs.length))]!;
    const cost = median(diffs);
    // A counted data segment and, in the client's namespace, the ACK it gets back (ingress): two chain passes.
    const share = (2 * cost) / nogsoNsPerSegment;
    return [
      mode,
      median(values).toFixed(0),
      `${q(0.25).toFixed(0)}-${q(0.75).toFixed(0)}`,
      cost.toFixed(0),
      `${dq(0.25).toFixed(0)} to ${dq(0.75).toFixed(0)}`,
      `${(share * 100).toFixed(2)}%`,
    ];
  });
  process.stdout.write(
    `${packets} segments x ${repetitions} repetitions per mode, interleaved; kernel ${sh('uname', ['-r']).trim()}, ` +
      `${sh('nproc', []).trim()} CPUs, ${sh('nft', ['--version']).trim()}; load average ${loadBefore} at start, ` +
      `${loadAfter} at the end; nogso CPU per segment taken as ${nogsoNsPerSegment.toFixed(0)} ns ` +
      `(${nogsoCpuPerGB} CPU-s per GB of 1448-byte segments)\n\n`,
  );
  process.stdout.write(
    `${renderTable({
      headers: [
        'mode',
        'sender CPU ns per segment (median)',
        'interquartile range',
        'table cost ns per segment (median of paired differences)',
        'paired differences, interquartile',
        'share of a nogso segment (data + its ACK)',
      ],
      rows,
    })}\n`,
  );
}
