/**
 * CPU cost per TCP segment of the flag-counting table, measured as CPU time rather than throughput (throughput on a
 * shared 2-vCPU machine varies by 15-35% between runs, far more than the 2% to be shown; a process's own CPU time per
 * packet varies much less with other load).
 *
 * Each mode gets a network namespace with an ifb interface `d0` and that mode's table, loaded afresh and moved to
 * another namespace every repetition: with each mode kept in one namespace and one table for a whole run, two runs
 * disagreed by ~100 ns per segment on the same pair of modes, as much as the effects measured. Per repetition one
 * python3 process holds a raw IPPROTO_TCP socket in each namespace and sends crafted TCP segments (an ACK) to an
 * address behind `d0`: each segment passes the `egress` chain on postrouting (the counted path) and is then freed by
 * the ifb device (no drop). Every mode sends `--packets` segments in bursts of `--burst`, the modes taking turns burst
 * by burst in a rotating order, and each burst is timed with the sender's own CPU clock (user + system,
 * CLOCK_PROCESS_CPUTIME_ID: ns, not clock ticks): the modes are compared milliseconds apart, so other load on the
 * machine hits them alike. Per mode: the median CPU per segment, and the median over repetitions of each
 * repetition's difference to `none` (no table: the table's own cost per segment). Finally that cost is set against
 * the CPU a segment costs in the flags-datapath `nogso` worst case (its CPU-s per GB, given with --nogso-cpu-per-gb),
 * which is the loss a CPU-bound path would see: once with two chain passes per data segment (the segment, and an ACK
 * for every segment: the bound), once with the passes flags-datapath counted in that workload (--passes-per-segment,
 * its ACKs being delayed and stretched).
 *
 * Modes (flags-chains.ts builds the variants: the collector's table with other chain rules):
 * - `kappie`: the collector's table as createTableScript builds it for one uplink (one inline name compare);
 * - `previous`: the table before the inline compares (`meta l4proto != tcp return`, `oifname != @uplinks return`,
 *   the counting rule), and its prefixes `hook` (the netfilter hook and an empty chain), `l4` (+ the protocol
 *   check) and `uplinks` (+ the set lookup), so consecutive modes differ by one rule;
 * - `ifcmp` and `ifset`: only the inline name compare, only the set lookup (no protocol check, no counting);
 * - `set`: the collector's shape above UPLINK_COMPARE_LIMIT uplinks (one rule: set lookup, then counting);
 * - `cmp2`, `cmp4`, `cmp8`: one counting rule per uplink for 2, 4, 8 uplinks, the counted one last;
 * - `unsized`: `kappie` without the size declarations of its sets and maps (the kernel's rhashtable backs them, not
 *   its fixed-size hash): the table up to 2026-11-30; `previous` is unsized too;
 * - `elements`: `kappie`'s compare, counting with per-element counters of a set of the 256 flag bytes (no map, no
 *   named counters);
 * - `netdev`: the same counters and maps in a `netdev` table whose chains hook the uplink device itself (no name
 *   compare; egress hooks need Linux 5.16+), and `netdevhook` its chains without rules.
 * Modes that stop before counting count nothing, so the check that the chain saw every segment is made for the
 * counting modes only.
 *
 * Usage (root): npm run bench -- flags-rule-cost [--packets 200000] [--repetitions 15] [--burst 1000]
 *   [--nogso-cpu-per-gb 6.3] [--passes-per-segment 2] [--modes none,previous,kappie]
 *   (`none` is always measured: costs are differences to it)
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createTableScript, deleteTableScript, type UplinkPlan } from '@kappie/collector';
import {
  countingStatement,
  elementCountersTableScript,
  netdevTableScript,
  PREVIOUS_CHAIN,
  previousTableScript,
  tableWithChains,
  withoutSizes,
  type ChainRules,
} from './flags-chains';
import { median, renderTable } from './stats';

/** The table counts on the ifb device the segments are sent to (the counted path). */
const RULE_COST_PLAN: UplinkPlan = { inet: ['d0'], bridge: [] };

/** `count` uplink names, `d0` (the counted one) last: a segment fails every compare before its own. */
function uplinkNames(count: number): string[] {
  return [...Array.from({ length: count - 1 }, (_, i) => `u${i + 1}`), 'd0'];
}

/** One counting rule per uplink, as the collector builds them up to its compare limit. */
function compareRules(count: number): ChainRules {
  return (direction, key) => uplinkNames(count).map((name) => `${key} "${name}" ${countingStatement(direction)}`);
}

/** Each mode's chain rules; `none` (no table), `previous` and `kappie` are built apart (script). */
const CHAINS = {
  // The previous chain and its prefixes: consecutive modes differ by one rule.
  hook: () => [],
  l4: (direction, key) => PREVIOUS_CHAIN(direction, key).slice(0, 1),
  uplinks: (direction, key) => PREVIOUS_CHAIN(direction, key).slice(0, 2),
  // The inline compare alone (no protocol check, no counting), and with one to eight uplinks counted.
  ifcmp: (_direction, key) => [`${key} "d0"`],
  cmp2: compareRules(2),
  cmp4: compareRules(4),
  cmp8: compareRules(8),
  // The set lookup alone, and the set shape the collector builds above its compare limit.
  ifset: (_direction, key) => [`${key} @uplinks`],
  set: (direction, key) => [`${key} @uplinks ${countingStatement(direction)}`],
} satisfies Record<string, ChainRules>;

const MODES = [
  'none',
  'hook',
  'l4',
  'uplinks',
  'previous',
  'ifcmp',
  'ifset',
  'set',
  'kappie',
  'cmp2',
  'cmp4',
  'cmp8',
  'unsized',
  'elements',
  'concat',
  'concat3',
  'netdevhook',
  'netdev',
] as const;
type Mode = (typeof MODES)[number];
/** Chain passes per data segment at most: the segment itself (egress), and one ACK for it (ingress). */
const BOUND_PASSES_PER_SEGMENT = 2;
/** A full-size segment of the nogso workload: MSS 1448 on a 1500-byte MTU veth (timestamps on). */
const SEGMENT_PAYLOAD_BYTES = 1448;

/**
 * The sender: one raw socket per mode, each created inside that mode's namespace (setns through libc: Python 3.11 has
 * no os.setns), then per repetition `packets` segments per mode sent in bursts of `burst`, the modes taking turns
 * burst by burst in a rotating order, each burst timed with the process's CPU clock. Prints, per mode, the CPU ns of
 * each repetition.
 */
const SENDER = `
import ctypes, json, os, socket, struct, sys, time
names, packets, repetitions, burst = sys.argv[1].split(','), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
libc = ctypes.CDLL(None, use_errno=True)
sockets = []
for name in names:
    fd = os.open('/run/netns/' + name, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), 'setns ' + name)
    os.close(fd)
    sockets.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP))
# source port, destination port, seq, ack, data offset 5 words, flags ACK, window, checksum (unchecked), urgent
segment = struct.pack('!HHIIBBHHH', 40000, 5201, 1, 1, 5 << 4, 0x10, 65535, 0, 0)
addr, clock, count = ('198.19.251.2', 0), time.process_time_ns, len(sockets)
spent = [[0] * repetitions for _ in names]
for rep in range(repetitions):
    for turn in range(packets // burst):
        for k in range(count):
            i = (k + turn + rep) % count
            send = sockets[i].sendto
            start = clock()
            for _ in range(burst):
                send(segment, addr)
            spent[i][rep] += clock() - start
print(json.dumps(spent))
`;

function sh(command: string, args: readonly string[], input?: string): string {
  const result = spawnSync(command, args as string[], { encoding: 'utf8', input, timeout: 300_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.stdout}`);
  return result.stdout;
}

/** Modes whose chain stops before counting or has no rule: they count nothing (the others count every segment). */
const NOT_COUNTING: readonly Mode[] = ['none', 'hook', 'l4', 'uplinks', 'ifcmp', 'ifset', 'netdevhook'];

/** Modes whose table is a `netdev` one, hooked on the uplink device (flags-chains.ts netdevTableScript). */
const NETDEV_MODES: readonly Mode[] = ['netdevhook', 'netdev'];

/** Removes whichever table a namespace's previous mode loaded (inet, or netdev for NETDEV_MODES), in one run of nft. */
const DELETE_EVERY_TABLE = `${deleteTableScript()}table netdev kappie {}\ndelete table netdev kappie\n`;

/** Modes counting with per-element counters of the set `<direction>_flags` (flags-chains.ts ElementCounterShape). */
const ELEMENT_COUNTER_MODES = ['elements', 'concat', 'concat3'] as const satisfies readonly Mode[];
const isElementCounterMode = (mode: Mode): mode is (typeof ELEMENT_COUNTER_MODES)[number] =>
  (ELEMENT_COUNTER_MODES as readonly Mode[]).includes(mode);

function script(mode: Mode): string {
  if (mode === 'none') return deleteTableScript();
  if (mode === 'kappie') return createTableScript(RULE_COST_PLAN);
  if (mode === 'previous') return previousTableScript(RULE_COST_PLAN);
  if (mode === 'unsized') return withoutSizes(createTableScript(RULE_COST_PLAN));
  if (isElementCounterMode(mode)) return elementCountersTableScript(RULE_COST_PLAN, mode);
  if (mode === 'netdevhook') return netdevTableScript(RULE_COST_PLAN, 'hook');
  if (mode === 'netdev') return netdevTableScript(RULE_COST_PLAN, 'count');
  return tableWithChains(RULE_COST_PLAN, CHAINS[mode]);
}

/**
 * Segments the egress chain of namespace `ns` counted: the sum of the named counters `egress_*`, or for the modes
 * with per-element counters of the element counters of set `egress_flags`.
 */
function egressCount(ns: string, mode: Mode): number {
  if (isElementCounterMode(mode)) {
    const set = sh('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'set', 'inet', 'kappie', 'egress_flags']);
    type Element = { elem?: { counter?: { packets: number } } };
    const entries = (JSON.parse(set) as { nftables: { set?: { elem?: Element[] } }[] }).nftables;
    const elements = entries.flatMap((entry) => entry.set?.elem ?? []);
    return elements.reduce((sum, element) => sum + (element.elem?.counter?.packets ?? 0), 0);
  }
  const family = NETDEV_MODES.includes(mode) ? 'netdev' : 'inet';
  const text = sh('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'counters', 'table', family, 'kappie']);
  let sum = 0;
  for (const entry of (JSON.parse(text) as { nftables: { counter?: { name: string; packets: number } }[] }).nftables) {
    if (entry.counter?.name.startsWith('egress_')) sum += entry.counter.packets;
  }
  return sum;
}

/** A namespace with the ifb device `d0` the segments are sent to (each repetition loads a mode's table into it). */
function createNamespace(): string {
  const ns = `kfr${randomBytes(3).toString('hex')}`;
  sh('ip', ['netns', 'add', ns]);
  // An ifb device frees what is sent to it directly (consume_skb: not a drop, so no kfree_skb event for the tracefs
  // instances of collectors running elsewhere on the machine); arp off, so no neighbour resolution either.
  sh('ip', ['-n', ns, 'link', 'add', 'd0', 'type', 'ifb']);
  sh('ip', ['-n', ns, 'addr', 'add', '198.19.251.1/24', 'dev', 'd0']);
  sh('ip', ['-n', ns, 'link', 'set', 'd0', 'arp', 'off', 'up']);
  return ns;
}

export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv as string[],
    options: {
      packets: { type: 'string', default: '200000' },
      repetitions: { type: 'string', default: '15' },
      'nogso-cpu-per-gb': { type: 'string', default: '6.3' },
      'passes-per-segment': { type: 'string', default: String(BOUND_PASSES_PER_SEGMENT) },
      burst: { type: 'string', default: '1000' },
      modes: { type: 'string', default: 'none,previous,kappie' },
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
  const passesPerSegment = Number(values['passes-per-segment']);
  if (!(passesPerSegment >= 1 && passesPerSegment <= BOUND_PASSES_PER_SEGMENT)) {
    throw new Error(`--passes-per-segment: a number from 1 (no ACKs) to ${BOUND_PASSES_PER_SEGMENT} expected`);
  }
  if (!(packets > 0) || !(repetitions > 0) || !(nogsoCpuPerGB > 0)) throw new Error('positive numbers expected');
  const burst = Number(values.burst);
  if (!(burst > 0) || packets % burst !== 0) throw new Error('--burst: a positive divisor of --packets expected');
  const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const namespaces: string[] = [];
  const perSegment = Object.fromEntries(modes.map((mode) => [mode, [] as number[]])) as Record<Mode, number[]>;
  try {
    for (let i = 0; i < modes.length; i += 1) namespaces.push(createNamespace());
    for (let rep = 0; rep < repetitions; rep += 1) {
      // Each repetition moves every mode to another namespace and loads its table afresh: what one namespace or one
      // table's place in memory costs (measured up to ~100 ns per segment, fixed for a table's life) is averaged out.
      const host = modes.map((_, m) => namespaces[(m + rep) % namespaces.length]!);
      modes.forEach((mode, m) => {
        sh('ip', ['netns', 'exec', host[m]!, 'nft', '-f', '-'], DELETE_EVERY_TABLE);
        if (mode !== 'none') sh('ip', ['netns', 'exec', host[m]!, 'nft', '-f', '-'], script(mode));
      });
      const result = spawnSync('python3', ['-c', SENDER, host.join(','), String(packets), '1', String(burst)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 3_600_000,
      });
      if (result.status !== 0) throw new Error(`the sender failed (${result.status ?? result.signal})`);
      const spent = JSON.parse(result.stdout) as number[][];
      modes.forEach((mode, m) => {
        perSegment[mode].push(spent[m]![0]! / packets);
        if (NOT_COUNTING.includes(mode)) return;
        const counted = egressCount(host[m]!, mode);
        if (counted < packets) throw new Error(`${mode}: the egress chain counted ${counted} of ${packets} segments`);
      });
      process.stderr.write(`repetition ${rep + 1} of ${repetitions}\n`);
    }
  } finally {
    for (const ns of namespaces) spawnSync('ip', ['netns', 'delete', ns]);
  }
  const loadAfter = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  // The nogso worst case: CPU per full-size data segment, its ACK included (both iperf3 ends, flags-datapath).
  const nogsoNsPerSegment = (nogsoCpuPerGB / (1e9 / SEGMENT_PAYLOAD_BYTES)) * 1e9;
  const rows = modes.map((mode) => {
    const values = perSegment[mode];
    const sorted = [...values].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
    if (mode === 'none')
      return [mode, median(values).toFixed(0), `${q(0.25).toFixed(0)}-${q(0.75).toFixed(0)}`, '', '', '', ''];
    const diffs = values.map((value, rep) => value - perSegment.none[rep]!).sort((a, b) => a - b);
    const dq = (p: number) => diffs[Math.min(diffs.length - 1, Math.floor(p * diffs.length))]!;
    const cost = median(diffs);
    // A counted data segment and, in the client's namespace, the ACKs it gets back (ingress).
    const share = (passes: number) => `${(((passes * cost) / nogsoNsPerSegment) * 100).toFixed(2)}%`;
    return [
      mode,
      median(values).toFixed(0),
      `${q(0.25).toFixed(0)}-${q(0.75).toFixed(0)}`,
      cost.toFixed(0),
      `${dq(0.25).toFixed(0)} to ${dq(0.75).toFixed(0)}`,
      share(BOUND_PASSES_PER_SEGMENT),
      share(passesPerSegment),
    ];
  });
  process.stdout.write(
    `${packets} segments x ${repetitions} repetitions per mode, interleaved in bursts of ${burst}; kernel ${sh('uname', ['-r']).trim()}, ` +
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
        'share of a nogso segment, an ACK per segment (bound)',
        `share at ${passesPerSegment} chain passes per segment (flags-datapath)`,
      ],
      rows,
    })}\n`,
  );
}
