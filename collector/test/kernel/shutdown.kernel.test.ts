/**
 * What the collector installs in the kernel is gone after it stops, however it is told to: the real collector in a
 * network namespace with its own tracefs instance and nftables table, stopped by each terminating signal; and the
 * quick start's `npm start` stopped with `kill -TERM` to npm, in a mount namespace where tracefs is not mounted (as
 * on a node that never mounted it), which the collector mounts and must unmount; a second SIGINT while stopping (one
 * Ctrl-C under npm start) does not abandon the cleanup. Also: `kappie snapshot` next to a
 * serving collector shows its TCP flag counts as a table.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { TERMINATING_SIGNALS } from '../../src/signals';
import {
  cleanup,
  COLLECTOR_CLI,
  connect,
  describeKernel,
  Namespace,
  REPO_ROOT,
  uniqueName,
  waitForOutput,
} from '../helpers/netns';
import { removeTracefsInstances, tracefsInstances } from '../helpers/tracefs-instances';
import { startTcpServer, tcpConnections } from '../helpers/tcp-flags-traffic';

function tables(ns: Namespace): string[] {
  return ns
    .exec('nft', 'list', 'tables')
    .split('\n')
    .map((line) => line.trim().split(' ').pop() ?? '')
    .filter((name) => name !== '');
}

/**
 * Starts `kappie serve` in `ns` counting drops in tracefs instance `instance` and TCP flags in nft table `table`, and
 * resolves once both exist; `log` collects its stderr from the start.
 */
async function startCounting(
  ns: Namespace,
  instance: string,
  table: string,
): Promise<{ child: ChildProcess; log: { text: string } }> {
  const child = ns.spawn(process.execPath, [
    COLLECTOR_CLI,
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--sources',
    'drops,tcp_flags',
    '--drop-reader',
    'tracefs',
    '--tracefs-instance',
    instance,
    '--nft-table',
    table,
  ]);
  const log = { text: '' };
  child.stderr!.on('data', (chunk: Buffer) => (log.text += chunk.toString()));
  await waitForOutput(child, /streaming kfree_skb drops/);
  await eventually(() => tables(ns).includes(table), `nft table ${table}`);
  expect(tracefsInstances(ns)).toContain(instance);
  return { child, log };
}

/** Removes what a collector that did NOT clean up left (so a failing test leaves nothing behind). */
function removeLeftovers(ns: Namespace, instance: string, table: string): void {
  spawnSync('ip', ['netns', 'exec', ns.name, 'nft', 'delete', 'table', 'inet', table], { stdio: 'ignore' });
  removeTracefsInstances(ns, instance);
}

function exited(child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve([child.exitCode, child.signalCode]);
    else child.once('exit', (code, signal) => resolve([code, signal]));
  });
}

/**
 * Sends `signal` to `pid` and returns once the kernel has delivered it: its bit has left the process's shared pending
 * set (`ShdPnd` in /proc/PID/status). A signal sent while the same one is still pending would merge with it.
 */
function sendAndAwaitDelivery(pid: number, signal: NodeJS.Signals): void {
  const bit = 1n << BigInt(os.constants.signals[signal] - 1);
  const pending = () =>
    BigInt(`0x${/^ShdPnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]}`);
  process.kill(pid, signal);
  const deadline = Date.now() + 5_000;
  while ((pending() & bit) !== 0n) {
    if (Date.now() > deadline) throw new Error(`${signal} still pending for process ${pid} after 5 s`);
  }
}

/** Waits until `check` is true, polling; throws with `what` after the timeout. */
async function eventually(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describeKernel('stopping removes the tracefs instance and the nftables table', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = Namespace.create();
  });
  afterAll(cleanup);

  it.each(TERMINATING_SIGNALS)('on %s', async (signal) => {
    const instance = uniqueName('kt');
    const table = uniqueName('kt');
    try {
      const { child } = await startCounting(ns, instance, table);

      child.kill(signal);
      expect(await exited(child)).toEqual([0, null]);
      expect(tables(ns)).not.toContain(table);
      expect(tracefsInstances(ns)).not.toContain(instance);
    } finally {
      removeLeftovers(ns, instance, table);
    }
  });
});

describeKernel('a repeated signal while stopping', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = Namespace.create();
  });
  afterAll(cleanup);

  it('a second SIGINT (Ctrl-C under npm start arrives twice) is ignored: the cleanup finishes', async () => {
    const instance = uniqueName('kt');
    const table = uniqueName('kt');
    try {
      const { child, log } = await startCounting(ns, instance, table);

      // As npm forwards a Ctrl-C the terminal also sent: the second moments after the first, once the kernel has
      // delivered the first (two sent back to back would merge into one pending signal).
      sendAndAwaitDelivery(child.pid!, 'SIGINT');
      child.kill('SIGINT');
      const exit = await exited(child);
      expect(tracefsInstances(ns)).not.toContain(instance);
      expect(tables(ns)).not.toContain(table);
      expect(exit).toEqual([0, null]);
      expect(log.text).toMatch(/SIGINT while stopping: ignored, the cleanup goes on/);
      expect(log.text).toContain('"msg":"stopped"');
    } finally {
      removeLeftovers(ns, instance, table);
    }
  });

  it("a terminal's Ctrl-C (SIGINT to the whole foreground process group) reaches only the collector: its nft session finishes the cleanup", async () => {
    const table = uniqueName('kt');
    try {
      // As a shell runs a foreground job: a process group of its own, signalled as a group.
      const child = spawn(
        'ip',
        [
          'netns',
          'exec',
          ns.name,
          process.execPath,
          COLLECTOR_CLI,
          'serve',
          '--listen',
          '127.0.0.1:0',
          '--sources',
          'tcp_flags',
          '--nft-table',
          table,
        ],
        { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const log = { text: '' };
      child.stderr!.on('data', (chunk: Buffer) => (log.text += chunk.toString()));
      await waitForOutput(child, /ready: the sources are started/);
      expect(tables(ns)).toContain(table);
      process.kill(-child.pid!, 'SIGINT');
      const exit = await exited(child);
      expect(exit).toEqual([0, null]);
      expect(tables(ns)).not.toContain(table);
      // Before: nft -i shared the group, died of the same SIGINT, and the removal failed as "nft exited (SIGINT)".
      expect(log.text).not.toContain('failed to clean up');
      expect(log.text).toContain('"msg":"stopped"');
    } finally {
      removeLeftovers(ns, uniqueName('unused'), table);
    }
  });
});

describeKernel('npm start (the quick start) stops with kill -TERM to npm', () => {
  let ns: Namespace;
  let holder: ChildProcess | undefined;
  const instance = uniqueName('kt');
  const table = uniqueName('kt');

  beforeAll(() => {
    ns = Namespace.create();
  });
  afterAll(() => {
    removeLeftovers(ns, instance, table);
    // A collector npm left running (the fault this test catches): found by its unique instance name, killed by pid.
    const left = spawnSync('pgrep', ['-f', '--', `--tracefs-instance ${instance}`], { encoding: 'utf8' }).stdout;
    for (const pid of left.split('\n').filter((line) => /^\d+$/.test(line))) process.kill(Number(pid), 'SIGKILL');
    holder?.kill('SIGKILL');
    cleanup();
  });

  /** Runs a command in the holder's mount namespace and the test's network namespace. */
  function inNamespaces(command: string[]): string[] {
    return [
      `--mount=/proc/${holder!.pid}/ns/mnt`,
      `--net=/run/netns/${ns.name}`,
      `--wd=${REPO_ROOT}`,
      '--',
      ...command,
    ];
  }

  function tracefsMounted(): boolean {
    return spawnSync('nsenter', inNamespaces(['mountpoint', '-q', '/sys/kernel/tracing'])).status === 0;
  }

  it('the collector is npm child, gets the signal, removes its table and instance, and unmounts the tracefs it mounted', async () => {
    // A mount namespace of our own, without tracefs mounted: what `npm start` meets on a host that never mounted it.
    holder = spawn(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'umount /sys/kernel/tracing 2>/dev/null; mountpoint -q /sys/kernel/tracing && exit 1; echo ready; exec sleep 600',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await waitForOutput(holder, /ready/);
    expect(tracefsMounted()).toBe(false);

    const npm = spawn(
      'nsenter',
      inNamespaces([
        'npm',
        'start',
        '--',
        '--listen',
        '127.0.0.1:0',
        '--sources',
        'drops,tcp_flags',
        '--drop-reader',
        'tracefs',
        '--tracefs-instance',
        instance,
        '--nft-table',
        table,
      ]),
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, npm_config_update_notifier: 'false' },
      },
    );
    await waitForOutput(npm, /streaming kfree_skb drops/, 60_000);
    await eventually(() => tables(ns).includes(table), `nft table ${table}`);
    expect(tracefsMounted()).toBe(true);
    const collectorRunning = () => spawnSync('pgrep', ['-f', '--', `--tracefs-instance ${instance}`]).status === 0;
    expect(collectorRunning()).toBe(true);

    npm.kill('SIGTERM');
    await exited(npm);
    await eventually(() => !collectorRunning(), 'the collector to exit', 10_000);
    expect(tables(ns)).not.toContain(table);
    expect(tracefsInstances(ns)).not.toContain(instance);
    expect(tracefsMounted()).toBe(false);
  });
});

describeKernel('kappie snapshot beside a serving collector', () => {
  let ns: Namespace;
  const table = uniqueName('kt');
  const instance = uniqueName('kt');
  afterAll(() => {
    removeLeftovers(ns, instance, table);
    cleanup();
  });

  it('prints the serving collector’s TCP flag counts as a table', async () => {
    // The table counts what crosses the node's interfaces (not loopback): traffic over a veth pair.
    const link = connect(Namespace.create(), Namespace.create());
    ns = link.a;
    const collector = ns.spawn(process.execPath, [
      COLLECTOR_CLI,
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--sources',
      'tcp_flags',
      '--nft-table',
      table,
    ]);
    await waitForOutput(collector, /serving \/metrics/);
    await eventually(() => tables(ns).includes(table), `nft table ${table}`);
    await startTcpServer(link.b, link.bAddr4, 8080);
    tcpConnections(ns, link.bAddr4, 8080, 5, 'close');

    const text = ns.exec(process.execPath, COLLECTOR_CLI, 'snapshot', '--sources', 'tcp_flags', '--nft-table', table);
    const section = text.slice(text.indexOf('TCP segments by flag'));
    expect(section).toMatch(/^flag\s+ingress\s+egress$/m);
    // The client side: SYN out, SYN+ACK in.
    const syn = /^SYN\s+(\d+)\s+(\d+)$/m.exec(section);
    const synAck = /^SYNACK\s+(\d+)\s+(\d+)$/m.exec(section);
    expect(Number(syn?.[2])).toBeGreaterThanOrEqual(5);
    expect(Number(synAck?.[1])).toBeGreaterThanOrEqual(5);
    collector.kill('SIGTERM');
    await exited(collector);
  });
});
