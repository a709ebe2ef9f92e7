/**
 * The two stream readers on the real kernel, side by side in one namespace: a collector reading its instance's
 * per-CPU trace_pipe_raw pages (--drop-stream-format raw) and one reading its instance's trace_pipe text (text). Both
 * see the same drops; the kernel's own counter (Udp NoPorts of the namespace) says how many were ours.
 *
 * tracefs instances see every namespace's drops (other tests run at the same time), so the collectors' counts are
 * lower bounds of ours; lost events are accounted: after a storm larger than the ring buffer while the raw collector
 * was stopped, counted + lost covers the kernel's count and lost equals the per-CPU `overrun` of its instance.
 */
import type { ChildProcess } from 'node:child_process';
import { LABEL, METRICS, metricName } from '../../src/catalog';
import { cleanup, COLLECTOR_CLI, describeKernel, Namespace, uniqueName, waitForOutput } from '../helpers/netns';
import { MOUNT_TRACEFS, removeTracefsInstances } from '../helpers/tracefs-instances';

const RAW_PORT = 10191;
const TEXT_PORT = 10192;
const CLOSED_PORT = 9;

function noSocketIngress(text: string): number {
  const name = metricName(METRICS.dropCount);
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && l.includes(`${LABEL.reason}="NO_SOCKET"`) && l.includes('"ingress"'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function lostEvents(text: string): number {
  const name = metricName(METRICS.sourceLostEvents);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${LABEL.source}="drop_reasons"`));
  return Number(line!.slice(line!.lastIndexOf(' ') + 1));
}

function noPorts(ns: Namespace): number {
  const lines = ns.exec('cat', '/proc/net/snmp').split('\n');
  const header = lines.findIndex((l) => l.startsWith('Udp: InDatagrams'));
  return Number(lines[header + 1]!.split(' ')[lines[header]!.split(' ').indexOf('NoPorts')]);
}

/** `count` 1-byte datagrams to the closed port from CPU `cpu` (python3: fast enough to fill a ring buffer). */
function sendFromCpu(ns: Namespace, count: number, cpu: number): void {
  ns.exec(
    'taskset',
    '-c',
    String(cpu),
    'python3',
    '-c',
    `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n` +
      `for i in range(${count}): s.sendto(b'x', ('127.0.0.1', ${CLOSED_PORT}))`,
  );
}

/** Sum of `field` over every CPU's stats of an instance (seen from the namespace's own tracefs mount). */
function instanceStat(ns: Namespace, instance: string, field: string): number {
  const text = ns.exec(
    'sh',
    '-c',
    `${MOUNT_TRACEFS}; cat /sys/kernel/tracing/instances/${instance}/per_cpu/cpu*/stats`,
  );
  return [...text.matchAll(new RegExp(`^${field}: (\\d+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}

describeKernel('stream readers of skb:kfree_skb: trace_pipe_raw pages and trace_pipe text', () => {
  let ns: Namespace;
  const rawInstance = uniqueName('kr');
  const textInstance = uniqueName('kt');
  const collectors: ChildProcess[] = [];
  const logs = new Map<string, string>();

  async function start(format: 'raw' | 'text', port: number, instance: string): Promise<ChildProcess> {
    const child = ns.spawn(process.execPath, [
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--sources',
      'drops',
      '--drop-reader',
      'tracefs',
      '--drop-stream-format',
      format,
      '--tracefs-instance',
      instance,
      '--scrape-reuse-window',
      '0',
    ]);
    collectors.push(child);
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitForOutput(child, /streaming kfree_skb drops/);
    logs.set(format, log);
    return child;
  }

  const scrape = (port: number) => ns.fetchText(`http://127.0.0.1:${port}/metrics`);
  let raw: ChildProcess;

  beforeAll(async () => {
    ns = Namespace.create();
    raw = await start('raw', RAW_PORT, rawInstance);
    await start('text', TEXT_PORT, textInstance);
  });

  afterAll(async () => {
    for (const child of collectors) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGCONT');
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
    }
    try {
      // Whatever happened, leave no instance of ours behind.
      removeTracefsInstances(ns, rawInstance, textInstance);
    } finally {
      cleanup();
    }
  });

  it('says which reader runs, in the log and on the status note', () => {
    expect(logs.get('raw')).toMatch(/through trace_pipe_raw/);
    expect(logs.get('text')).toMatch(/through trace_pipe\b(?!_raw)/);
    const status = (port: number) => ns.fetchText(`http://127.0.0.1:${port}/`);
    expect(status(RAW_PORT)).toMatch(/events read from trace_pipe_raw \(binary\)/);
    expect(status(TEXT_PORT)).toMatch(/events read from trace_pipe \(text\)/);
  });

  it('both readers count every datagram to a closed port that Udp NoPorts counted, from both CPUs', () => {
    const rawBefore = noSocketIngress(scrape(RAW_PORT));
    const textBefore = noSocketIngress(scrape(TEXT_PORT));
    const kernelBefore = noPorts(ns);
    sendFromCpu(ns, 300, 0);
    sendFromCpu(ns, 300, 1);
    const kernel = noPorts(ns) - kernelBefore;
    expect(kernel).toBe(600);
    const rawText = scrape(RAW_PORT);
    expect(noSocketIngress(rawText) - rawBefore).toBeGreaterThanOrEqual(kernel);
    expect(noSocketIngress(scrape(TEXT_PORT)) - textBefore).toBeGreaterThanOrEqual(kernel);
    expect(lostEvents(rawText)).toBe(0);
  });

  it('accounts a ring buffer overrun as lost events: counted + lost covers the kernel count, lost = overrun', () => {
    const before = scrape(RAW_PORT);
    const kernelBefore = noPorts(ns);
    // Stopped, the collector reads nothing: 80k drops on one CPU overrun its 2 MiB per-CPU buffer (~47k records).
    raw.kill('SIGSTOP');
    try {
      sendFromCpu(ns, 80_000, 0);
    } finally {
      raw.kill('SIGCONT');
    }
    const kernel = noPorts(ns) - kernelBefore;
    expect(kernel).toBe(80_000);
    const after = scrape(RAW_PORT);
    const counted = noSocketIngress(after) - noSocketIngress(before);
    const lost = lostEvents(after) - lostEvents(before);
    expect(lost).toBeGreaterThan(0);
    expect(counted + lost).toBeGreaterThanOrEqual(kernel);
    // No page or record was unreadable: every lost event is the ring buffer's own.
    expect(ns.fetchText(`http://127.0.0.1:${RAW_PORT}/`)).not.toMatch(/unreadable trace records/);
    expect(lostEvents(after)).toBe(
      instanceStat(ns, rawInstance, 'overrun') +
        instanceStat(ns, rawInstance, 'commit overrun') +
        instanceStat(ns, rawInstance, 'dropped events'),
    );
  }, 60_000);
});
