/**
 * The drops source end to end on recorded kernel files: its hist mode (which the CI kernel lacks) and stream mode on a
 * directory of recorded tracefs files (helpers/recorded-tracefs.ts), its counters strategy on the recorded proc root
 * of the golden test, run through the real Gatherer so that the status it reports is what /metrics would show.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { LABEL } from '../../src/catalog';
import { resolveConfig, type DropReader } from '../../src/config';
import { Gatherer, type Gathering } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import type { SampleView, Source } from '../../src/source';
import { createDropsSource, type DropsSource } from '../../src/sources/linux/drops/drops-source';
import { createSnmpSource } from '../../src/sources/linux/snmp';
import { kfreeSkbHistTrigger } from '../../src/sources/linux/drops/hist-mode';
import { parseBtf } from '../../src/kernel/btf';
import { offsetFetch } from '../../src/sources/linux/drops/kprobe-args';
import { kprobeDefinition, kprobeHistTrigger, kprobeRemoval } from '../../src/sources/linux/drops/kprobe-bytes';
import { kernelLikeBtf } from '../helpers/btf-builder';
import { fixture, FIXTURES } from '../helpers/fixtures';
import { recordedTracefs, type RecordedTracefs, type RecordedTracefsOptions } from '../helpers/recorded-tracefs';

const FORMAT = fixture('linux/tracefs/kfree_skb.format.6.18');
const HIST = fixture('linux/tracefs/hist.kfree_skb');
const KPROBE_HIST = fixture('linux/tracefs/hist.kprobe_bytes');
const CPU_STATS = fixture('linux/tracefs/per_cpu_stats');
const PROC = path.join(FIXTURES, 'linux', 'golden', 'proc');
const INSTANCE = 'instances/unit';
const EVENT = `${INSTANCE}/events/skb/kfree_skb`;

/** A format whose reason table names the non-drop reasons too, as kernels 5.17 to 6.3 did. */
const FORMAT_WITH_CONSUMED = FORMAT.replace(
  '{ 2, "NOT_SPECIFIED" }',
  '{ 0, "NOT_DROPPED_YET" }, { 1, "CONSUMED" }, { 2, "NOT_SPECIFIED" }',
);

interface Run {
  readonly source: DropsSource;
  readonly gatherer: Gatherer;
  readonly logs: string[];
}

const trees: RecordedTracefs[] = [];
const gatherers: Gatherer[] = [];
const sysRoots: string[] = [];
afterEach(async () => {
  for (const gatherer of gatherers.splice(0)) await gatherer.stop();
  for (const tree of trees.splice(0)) tree.remove();
  for (const root of sysRoots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
});

/** A sys root holding `kernel/btf/vmlinux` (the bytes given), or none of it. */
function sysRoot(vmlinux: Uint8Array | undefined): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-sys-'));
  sysRoots.push(root);
  if (vmlinux) {
    fs.mkdirSync(path.join(root, 'kernel', 'btf'), { recursive: true });
    fs.writeFileSync(path.join(root, 'kernel', 'btf', 'vmlinux'), vmlinux);
  }
  return root;
}

function tree(options: Partial<RecordedTracefsOptions> = {}): RecordedTracefs {
  const made = recordedTracefs({ format: FORMAT, cpuStats: [CPU_STATS, CPU_STATS], ...options });
  trees.push(made);
  return made;
}

function run(
  tracefs: RecordedTracefs | undefined,
  dropReader: DropReader,
  options: {
    oneShot?: boolean;
    oneShotEvents?: boolean;
    sysPath?: string;
    tracefsInstance?: string;
    /** Sources gathered before the drops source, as in the collector (the snmp source reads the same files). */
    before?: readonly Source[];
    /** Counts reads (text or bytes) per file under --proc-path. */
    procReads?: Map<string, number>;
  } = {},
): Run {
  const logs: string[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  );
  const config = resolveConfig(
    {
      procPath: PROC,
      tracefsInstance: options.tracefsInstance ?? 'unit',
      dropReader,
      ...(options.sysPath ? { sysPath: options.sysPath } : {}),
    },
    {},
  );
  const source = createDropsSource({
    mountTracefs: () => {
      if (!tracefs) throw new Error('tracefs path /nowhere does not exist (set --tracefs-path)');
      return tracefs.mount();
    },
  });
  const hostFs = createHostFs(config);
  const count = (file: string) => options.procReads?.set(file, (options.procReads.get(file) ?? 0) + 1);
  const gatherer = new Gatherer([...(options.before ?? []), source], {
    config,
    fs: {
      ...hostFs,
      readProc: (file) => (count(file), hostFs.readProc(file)),
      readProcIfExists: (file) => (count(file), hostFs.readProcIfExists(file)),
      readProcBytes: (file) => (count(file), hostFs.readProcBytes(file)),
      readProcBytesIfExists: (file) => (count(file), hostFs.readProcBytesIfExists(file)),
    },
    log,
    oneShot: options.oneShot,
    oneShotEvents: options.oneShotEvents,
  });
  gatherers.push(gatherer);
  return { source, gatherer, logs };
}

/** Series of a metric as "REASON/direction" -> value. */
function series(samples: readonly SampleView[] | undefined): Record<string, number> {
  return Object.fromEntries(
    (samples ?? []).map((s) => [`${s.labels[LABEL.reason]}/${s.labels[LABEL.direction]}`, s.value]),
  );
}

function status(gathering: Gathering) {
  expect(gathering.sources).toHaveLength(1);
  return gathering.sources[0]!;
}

describe('drops source, hist mode (recorded tracefs of a kernel with hist triggers)', () => {
  it('counts the kernel table by reason and direction, with the status and lost events of drop_reasons', async () => {
    const recorded = tree({ hist: HIST });
    const { gatherer } = run(recorded, 'tracefs');
    const gathering = await gatherer.gather();
    expect(status(gathering)).toMatchObject({ name: 'drop_reasons', up: true, lostEvents: 0 });
    expect(series(gathering.samples.dropCount)).toEqual({
      'NO_SOCKET/ingress': 1001,
      'NETFILTER_DROP/unknown': 2,
      // br_nf_dev_queue_xmit is in no direction table: unknown, never a guess.
      'NOT_SPECIFIED/unknown': 4,
      'QDISC_DROP/egress': 17,
      // Drops the tracepoint never names (untraced-drops.ts): exported from the start, at 0 in the first gathering.
      'TCP_LISTEN_SYN_DROP/ingress': 0,
      // A recorded tree is not the live procfs: no link dump, so no NETDEV_RX_MISSED.
      'IP_OUTNOROUTES_UNTRACED/egress': 0,
    });
    expect(gathering.samples.dropBytes).toBeUndefined();
    expect(status(gathering).reason).toBe('no kprobe+hist: drop_bytes not counted by this source');
    expect(recorded.text(`${EVENT}/trigger`)).toBe(kfreeSkbHistTrigger(true, 'protocol != 0'));
    expect(recorded.text(`${EVENT}/enable`)).toBe('0\n');
    expect(recorded.text(`${INSTANCE}/buffer_size_kb`)).toBe('2048');
  });

  it("sums dropped bytes from the kprobe table, and counts both tables' Dropped as lost events", async () => {
    const recorded = tree({ hist: HIST, kprobeHist: KPROBE_HIST });
    const { gatherer } = run(recorded, 'tracefs');
    const gathering = await gatherer.gather();
    expect(series(gathering.samples.dropBytes)).toEqual({ 'NETFILTER_DROP/unknown': 168, 'NO_SOCKET/ingress': 30000 });
    expect(series(gathering.samples.dropCount)['NO_SOCKET/ingress']).toBe(1001);
    expect(status(gathering)).toMatchObject({ name: 'drop_reasons', up: true, lostEvents: 3, reason: undefined });
    expect(recorded.text('kprobe_events')).toBe(
      kprobeRemoval() + kprobeRemoval() + kprobeDefinition('sk_skb_reason_drop'),
    );
    expect(recorded.text(`${INSTANCE}/events/kappie/kfree_skb_bytes/trigger`)).toBe(kprobeHistTrigger(2));
  });

  describe('kprobe events without BTF argument names (README, format and tables recorded on Debian 6.1)', () => {
    const recorded61 = () =>
      tree({
        format: fixture('linux/tracefs/kfree_skb.format.6.1'),
        hist: fixture('linux/tracefs/hist.kfree_skb.6.1'),
        kprobeHist: fixture('linux/tracefs/hist.kprobe_bytes.6.1'),
        readme: fixture('linux/tracefs/README.6.1'),
      });

    it("fetches skb->len at the offset of the kernel's BTF, and sums the bytes", async () => {
      const btf = kernelLikeBtf().build();
      const recorded = recorded61();
      const { gatherer, logs } = run(recorded, 'tracefs', { sysPath: sysRoot(btf) });
      const gathering = await gatherer.gather();
      const fetch = offsetFetch(parseBtf(btf), 'sk_skb_reason_drop');
      expect(fetch.len).toBe('+112($arg2):u32');
      expect(recorded.text('kprobe_events')).toBe(
        kprobeRemoval() + kprobeRemoval() + kprobeDefinition('sk_skb_reason_drop', fetch),
      );
      expect(recorded.text(`${INSTANCE}/events/kappie/kfree_skb_bytes/trigger`)).toBe(kprobeHistTrigger(1));
      expect(logs.some((line) => line.includes('"access":"offsets"'))).toBe(true);
      const bytes = series(gathering.samples.dropBytes);
      expect(bytes['NETFILTER_DROP/unknown']).toBe(50 * 128);
      expect(bytes['IP_INNOROUTES/ingress']).toBe(25 * 128);
      expect(bytes['NO_SOCKET/ingress']).toBe(25 * 108 + 1000);
      expect(status(gathering)).toMatchObject({ name: 'drop_reasons', up: true, lostEvents: 0, reason: undefined });
    });

    it('without kernel BTF: drops are counted, bytes are not, and the log says why', async () => {
      const { gatherer, logs } = run(recorded61(), 'tracefs', { sysPath: sysRoot(undefined) });
      const gathering = await gatherer.gather();
      expect(gathering.samples.dropBytes).toBeUndefined();
      expect(series(gathering.samples.dropCount)['NETFILTER_DROP/unknown']).toBe(50);
      expect(status(gathering).reason).toBe('no kprobe+hist: drop_bytes not counted by this source');
      const why = logs.find((line) => line.includes('no drop function could be probed'));
      expect(why).toMatch(/kernel BTF unusable: .*kernel\/btf\/vmlinux/);
    });
  });

  it("counts a full table's Dropped as lost events", async () => {
    const recorded = tree({ hist: HIST.replace('Dropped: 0', 'Dropped: 7') });
    const gathering = await run(recorded, 'tracefs').gatherer.gather();
    expect(status(gathering).lostEvents).toBe(7);
  });

  it('leaves out reasons that are not drops, in the filter and in the table', async () => {
    const consumed =
      '{ reason:          1, location: [ffffffff820a7f2c] __udp4_lib_rcv                                } hitcount:         50\n';
    const hist = HIST.replace('\nTotals:', `${consumed}\nTotals:`);
    const recorded = tree({ format: FORMAT_WITH_CONSUMED, hist });
    const gathering = await run(recorded, 'tracefs').gatherer.gather();
    expect(recorded.text(`${EVENT}/trigger`)).toBe(
      kfreeSkbHistTrigger(true, 'protocol != 0 && reason != 0 && reason != 1'),
    );
    const counts = series(gathering.samples.dropCount);
    expect(Object.keys(counts).filter((key) => key.startsWith('CONSUMED'))).toEqual([]);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1024);
  });

  it('removes its instance and its kprobe at stop, and replaces a stale instance at start', async () => {
    const recorded = tree({ hist: HIST, kprobeHist: KPROBE_HIST });
    recorded.tracefs.makeDir(INSTANCE);
    const { gatherer, logs } = run(recorded, 'tracefs');
    await gatherer.gather();
    expect(logs.some((line) => line.includes('removed a stale tracefs instance'))).toBe(true);
    expect(recorded.text(`${EVENT}/trigger`)).toBe(kfreeSkbHistTrigger(true, 'protocol != 0'));
    await gatherer.stop();
    expect(recorded.text(INSTANCE + '/buffer_size_kb')).toBeUndefined();
    expect(recorded.text('kprobe_events')!.endsWith(kprobeRemoval())).toBe(true);
  });

  it('reports down, under drop_reasons, when the hist trigger is gone', async () => {
    const recorded = tree({ hist: HIST });
    const { gatherer } = run(recorded, 'tracefs');
    await gatherer.gather();
    recorded.tracefs.write(`${EVENT}/hist`, '# event histogram\n#\n');
    expect(status(await gatherer.gather())).toMatchObject({
      name: 'drop_reasons',
      up: false,
      reason: expect.stringMatching(/shows no table: the hist trigger is gone/),
    });
  });
});

describe('drops source, stream mode (recorded trace_pipe)', () => {
  it('filters, enables, records netfilter stacks and counts the recorded stream', async () => {
    const recorded = tree({ tracePipe: fixture('linux/tracefs/trace_pipe.6.18') });
    const { source, gatherer } = run(recorded, 'tracefs');
    const gathering = await gatherer.gather();
    expect(recorded.text(`${EVENT}/filter`)).toBe('protocol != 0');
    expect(recorded.text(`${EVENT}/enable`)).toBe('1');
    expect(recorded.text(`${EVENT}/trigger`)).toBe('stacktrace if reason == 12');
    expect(series(gathering.samples.dropCount)).toEqual({
      'TCP_OLD_DATA/ingress': 2,
      'NETFILTER_DROP/ingress': 1,
      'NO_SOCKET/ingress': 3,
      'NOT_SPECIFIED/ingress': 1,
      'TCP_LISTEN_SYN_DROP/ingress': 0,
      'IP_OUTNOROUTES_UNTRACED/egress': 0,
    });
    expect(source.streamedEvents()).toBe(7);
    expect(status(gathering)).toMatchObject({ name: 'drop_reasons', up: true, lostEvents: 0 });
  });

  it('counts ring buffer overruns of every CPU and unreadable lines as lost events', async () => {
    const overrun = CPU_STATS.replace('overrun: 0', 'overrun: 5');
    const recorded = tree({ tracePipe: 'garbage\n', cpuStats: [overrun, overrun, CPU_STATS] });
    const gathering = await run(recorded, 'tracefs').gatherer.gather();
    expect(status(gathering)).toMatchObject({
      lostEvents: 11,
      reason: expect.stringMatching(/unreadable trace lines/),
    });
  });
});

describe('drops source: which strategy counts, decided in one place', () => {
  it('auto: tracefs events count while they can, and the counters stay out of that gathering', async () => {
    const gathering = await run(tree({ hist: HIST }), 'auto').gatherer.gather();
    expect(status(gathering).name).toBe('drop_reasons');
    expect(Object.keys(series(gathering.samples.dropCount)).some((key) => key.startsWith('NETDEV_'))).toBe(false);
  });

  it('auto without tracefs: the kernel counters count, under drop_counters, saying why once', async () => {
    const { gatherer, logs } = run(undefined, 'auto');
    const first = await gatherer.gather();
    await gatherer.gather();
    expect(status(first)).toMatchObject({
      name: 'drop_counters',
      source: 'drops',
      up: true,
      reason: expect.stringMatching(/^kernel drop counters .*tracefs path \/nowhere does not exist/),
    });
    // The kernel counters lose nothing: no lost-events series for them.
    expect(status(first)).not.toHaveProperty('lostEvents');
    expect(series(first.samples.dropCount)).toHaveProperty(['NETDEV_RX_DROP/ingress']);
    expect(logs.filter((line) => line.includes('tracefs events cannot count drops'))).toHaveLength(1);
  });

  it('auto with an instance another process holds: the counters count, the instance is left alone', async () => {
    const recorded = tree({ hist: HIST });
    recorded.tracefs.makeDir(INSTANCE);
    const busy = {
      ...recorded,
      mount: () => ({ ...recorded.mount(), tracefs: { ...recorded.tracefs, removeDir: () => 'busy' as const } }),
    };
    const gathering = await run(busy, 'auto').gatherer.gather();
    expect(status(gathering)).toMatchObject({
      name: 'drop_counters',
      up: true,
      reason: expect.stringMatching(/in use by another process/),
    });
    expect(recorded.text(`${EVENT}/trigger`)).toBe('');
  });

  it('auto after a failure: tries events again only after a growing backoff, and says it mounted tracefs once', async () => {
    const recorded = tree({ hist: HIST });
    recorded.tracefs.makeDir(INSTANCE);
    let holder: 'another process' | 'nobody' = 'another process';
    let mounts = 0;
    let clock = 1_000_000;
    const logs: string[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({ write: (chunk: Buffer, _e, done) => (logs.push(chunk.toString()), done()) }),
    );
    const source = createDropsSource({
      now: () => clock,
      mountTracefs: () => {
        mounts += 1;
        const mounted = recorded.mount();
        const removeDir = holder === 'nobody' ? mounted.tracefs.removeDir : () => 'busy' as const;
        return { ...mounted, mountedByUs: true, tracefs: { ...mounted.tracefs, removeDir } };
      },
    });
    const config = resolveConfig({ procPath: PROC, tracefsInstance: 'unit', dropReader: 'auto' }, {});
    const gatherer = new Gatherer([source], { config, fs: createHostFs(config), log });
    gatherers.push(gatherer);
    const gatherAt = async (ms: number) => {
      clock = ms;
      return status(await gatherer.gather()).name;
    };
    expect(await gatherAt(1_000_000)).toBe('drop_counters');
    expect(await gatherAt(1_015_000)).toBe('drop_counters'); // a scrape 15 s later: no new try
    expect(mounts).toBe(1);
    expect(await gatherAt(1_030_000)).toBe('drop_counters'); // 30 s: tried, failed again; next wait 60 s
    expect(mounts).toBe(2);
    expect(await gatherAt(1_080_000)).toBe('drop_counters');
    expect(mounts).toBe(2);
    holder = 'nobody'; // the other collector went away
    expect(await gatherAt(1_090_000)).toBe('drop_reasons');
    expect(mounts).toBe(3);
    expect(logs.filter((line) => line.includes('tracefs was not mounted')).length).toBe(1);
    expect(logs.filter((line) => line.includes('trying events again in 30 s')).length).toBe(1);
  });

  it('hist: counts in the kernel where it has hist triggers', async () => {
    const recorded = tree({ hist: HIST });
    const gathering = await run(recorded, 'hist').gatherer.gather();
    expect(status(gathering)).toMatchObject({ name: 'drop_reasons', up: true });
    expect(recorded.text(`${EVENT}/trigger`)).toBe(kfreeSkbHistTrigger(true, 'protocol != 0'));
  });

  it('hist on a kernel without hist triggers: down under drop_reasons, saying what to use, nothing left behind', async () => {
    const recorded = tree({ tracePipe: fixture('linux/tracefs/trace_pipe.6.18') });
    const gathering = await run(recorded, 'hist').gatherer.gather();
    expect(status(gathering)).toMatchObject({
      name: 'drop_reasons',
      up: false,
      reason: expect.stringMatching(
        /--drop-reader hist: this kernel has no hist triggers .*use --drop-reader tracefs or stream/,
      ),
    });
    expect(gathering.samples.dropCount).toBeUndefined();
    expect(recorded.tracefs.list('instances')).toEqual([]);
  });

  it.each(['stream', 'counters'] as const)(
    '%s: beside the snmp source, one gathering reads each snmp file and net/dev once (instance guard, untraced drops)',
    async (reader) => {
      const procReads = new Map<string, number>();
      const recorded = tree({ tracePipe: fixture('linux/tracefs/trace_pipe.6.18') });
      const { gatherer } = run(recorded, reader, { before: [createSnmpSource()], procReads });
      const first = await gatherer.gather();
      expect(first.sources.map(({ up }) => up)).toEqual([true, true]);
      expect(series(first.samples.dropCount)).toHaveProperty(
        reader === 'stream' ? ['TCP_LISTEN_SYN_DROP/ingress'] : ['TCP_LISTEN_OVERFLOW/ingress'],
      );
      await gatherer.gather();
      const perGathering = (file: string) => (procReads.get(file) ?? 0) / 2;
      expect(['net/snmp', 'net/netstat', 'net/snmp6', 'net/dev'].map(perGathering)).toEqual([1, 1, 1, 1]);
    },
  );

  it('stream on a kernel with hist triggers and kprobe events: streams, installs no trigger nor kprobe', async () => {
    const recorded = tree({ hist: HIST, kprobeHist: KPROBE_HIST, tracePipe: fixture('linux/tracefs/trace_pipe.6.18') });
    const { source, gatherer } = run(recorded, 'stream');
    const gathering = await gatherer.gather();
    expect(recorded.text(`${EVENT}/enable`)).toBe('1');
    expect(recorded.text(`${EVENT}/trigger`)).toBe('stacktrace if reason == 12');
    expect(recorded.text('kprobe_events')).toBe(kprobeRemoval());
    expect(source.streamedEvents()).toBe(7);
    expect(gathering.samples.dropBytes).toBeUndefined();
    expect(status(gathering)).toMatchObject({
      name: 'drop_reasons',
      up: true,
      // The reader's own note (raw pages or text lines) follows the mode's.
      reason: expect.stringMatching(/^stream mode \(--drop-reader stream\): drop_bytes not counted by this source; /),
    });
  });

  it.each(['tracefs', 'hist', 'stream'] as const)(
    '%s: no fallback, down under drop_reasons with the reason',
    async (reader) => {
      const gathering = await run(undefined, reader).gatherer.gather();
      expect(status(gathering)).toMatchObject({
        name: 'drop_reasons',
        up: false,
        reason: expect.stringMatching(/does not exist/),
      });
      expect(gathering.samples.dropCount).toBeUndefined();
    },
  );

  it('counters: never touches tracefs', async () => {
    const recorded = tree({ hist: HIST });
    const gathering = await run(recorded, 'counters').gatherer.gather();
    expect(status(gathering)).toMatchObject({ name: 'drop_counters', up: true, reason: undefined });
    expect(status(gathering)).not.toHaveProperty('lostEvents');
    expect(recorded.tracefs.list('instances')).toEqual([]);
  });

  it('one-shot beside a serving collector in hist mode: leaves the serving instance and kprobe alone', async () => {
    const recorded = tree({ hist: HIST, kprobeHist: KPROBE_HIST });
    const serving = run(recorded, 'auto');
    expect(status(await serving.gatherer.gather())).toMatchObject({ name: 'drop_reasons', up: true });
    const trigger = recorded.text(`${EVENT}/trigger`);
    const kprobes = recorded.text('kprobe_events');
    const snapshot = run(recorded, 'auto', { oneShot: true });
    const once = await snapshot.gatherer.gather();
    expect(status(once)).toMatchObject({ name: 'drop_counters', up: true });
    expect(status(once).reason).toMatch(/^read once here: the kernel drop counters .* as kappie snapshot --duration 0/);
    // Not worded as a fault: a one-shot gathering does not try tracefs (a new user read "cannot count" as broken).
    expect(status(once).reason).not.toMatch(/cannot/);
    await snapshot.gatherer.stop();
    expect(recorded.text(`${EVENT}/trigger`)).toBe(trigger);
    expect(recorded.text('kprobe_events')).toBe(kprobes);
    expect(status(await serving.gatherer.gather())).toMatchObject({ name: 'drop_reasons', up: true });
    expect(status(await run(recorded, 'tracefs', { oneShot: true }).gatherer.gather())).toMatchObject({
      name: 'drop_reasons',
      up: false,
    });
  });

  it('one-shot with --drop-reader counters: the counters, without a note about tracefs', async () => {
    const recorded = tree({ hist: HIST });
    const once = await run(recorded, 'counters', { oneShot: true }).gatherer.gather();
    expect(status(once)).toMatchObject({ name: 'drop_counters', up: true, reason: undefined });
    expect(recorded.tracefs.list('instances')).toEqual([]);
  });

  it('one-shot counting events in an instance of its own: counts there, leaves the serving instance alone', async () => {
    const recorded = tree({ hist: HIST });
    const serving = run(recorded, 'auto');
    expect(status(await serving.gatherer.gather())).toMatchObject({ name: 'drop_reasons', up: true });
    const trigger = recorded.text(`${EVENT}/trigger`);
    const snapshot = run(recorded, 'auto', { oneShot: true, oneShotEvents: true, tracefsInstance: 'unit-snapshot' });
    expect(status(await snapshot.gatherer.gather())).toMatchObject({ name: 'drop_reasons', up: true });
    expect(recorded.tracefs.list('instances').sort()).toEqual(['unit', 'unit-snapshot']);
    await snapshot.gatherer.stop();
    expect(recorded.tracefs.list('instances')).toEqual(['unit']);
    expect(recorded.text(`${EVENT}/trigger`)).toBe(trigger);
    expect(status(await serving.gatherer.gather())).toMatchObject({ name: 'drop_reasons', up: true });
  });

  it("keeps each instance's state to itself: stopping one leaves the other counting", async () => {
    const first = run(tree({ hist: HIST }), 'tracefs');
    const second = run(tree({ tracePipe: fixture('linux/tracefs/trace_pipe.6.18') }), 'tracefs');
    await first.gatherer.gather();
    await second.gatherer.gather();
    await first.gatherer.stop();
    expect(second.source.streamedEvents()).toBe(7);
    expect(status(await second.gatherer.gather())).toMatchObject({ name: 'drop_reasons', up: true });
    expect(first.source.streamedEvents()).toBe(0);
  });
});
