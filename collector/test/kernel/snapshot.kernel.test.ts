/**
 * `kappie snapshot` on the real kernel, as an operator runs it on a node: next to a serving collector it shows that
 * collector's totals (read from its /metrics, no tracefs instance of its own); alone it counts the drops made during
 * its --duration in a tracefs instance of its own, and says so. Real drops: UDP datagrams to a closed port in a
 * namespace of ours.
 *
 * tracefs instances see every namespace's drops (other tests run at the same time), so window counts are bounded with
 * a margin; the collector/snapshot comparison is exact because both read the same gathering (the collector reuses a
 * gathering for --scrape-reuse-window seconds).
 */
import type { ChildProcess } from 'node:child_process';
import { LABEL } from '../../src/catalog';
import type { Gathering } from '../../src/gatherer';
import { parsePrometheusText } from '../../src/prometheus-text';
import { readSnapshotJson } from '../../src/snapshot-json';
import { cleanup, COLLECTOR_CLI, describeKernel, Namespace, uniqueName, waitForOutput } from '../helpers/netns';
import { removeTracefsInstances, tracefsInstances } from '../helpers/tracefs-instances';

const CLOSED_PORT = 9;
const N = 30;
/** Drops made before a windowed snapshot starts: far more than other tests make during its 2 s. */
const BEFORE_WINDOW = 3000;
const REUSE_SECONDS = 8;

function sendDatagrams(ns: Namespace, count: number): void {
  const script = `
    const s = require('node:dgram').createSocket('udp4');
    s.on('error', () => {});
    let left = ${count};
    const next = () => left-- > 0 ? s.send('x', ${CLOSED_PORT}, '127.0.0.1', next) : s.close();
    next();`;
  ns.exec(process.execPath, '-e', script);
}

function noSocket(gathering: Gathering): number | undefined {
  return gathering.samples.dropCount?.find(
    (s) => s.labels[LABEL.reason] === 'NO_SOCKET' && s.labels[LABEL.direction] === 'ingress',
  )?.value;
}

/** NO_SOCKET/ingress in a /metrics text. */
function noSocketIn(text: string): number | undefined {
  const family = parsePrometheusText(text, 'metrics').find((f) => f.name === 'kappie_drop_count');
  return family?.samples.find((s) => s.labels.reason === 'NO_SOCKET' && s.labels.direction === 'ingress')?.value;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describeKernel('kappie snapshot beside a serving collector, and alone', () => {
  let ns: Namespace;
  const servingInstance = uniqueName('ks');
  const aloneInstance = uniqueName('ks');
  const interruptedInstance = uniqueName('ks');
  const nftTable = uniqueName('ks');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}/metrics`;
  let collector: ChildProcess | undefined;

  beforeAll(() => {
    ns = Namespace.create();
  });

  afterAll(async () => {
    if (collector) {
      const exit = exited(collector);
      collector.kill('SIGTERM');
      await exit;
    }
    try {
      for (const name of [
        servingInstance,
        `${servingInstance}-snapshot`,
        `${aloneInstance}-snapshot`,
        `${interruptedInstance}-snapshot`,
      ]) {
        removeTracefsInstances(ns, name);
      }
    } finally {
      cleanup();
    }
  });

  const snapshot = (...flags: string[]) =>
    readSnapshotJson(ns.exec(process.execPath, COLLECTOR_CLI, 'snapshot', '--json', ...flags));

  it("next to a serving collector shows that collector's totals, read from its /metrics", async () => {
    collector = ns.spawn(process.execPath, [
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--sources',
      'drops,sockstat',
      '--tracefs-instance',
      servingInstance,
      '--nft-table',
      nftTable,
      '--new-series-hold',
      '0',
      '--scrape-reuse-window',
      String(REUSE_SECONDS),
    ]);
    await waitForOutput(collector, /ready: the sources are started/);
    const ready = Date.now();
    sendDatagrams(ns, N);
    // The next scrape must gather anew (after the startup gathering's reuse window), after the drops.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, ready + REUSE_SECONDS * 1000 + 200 - Date.now())));

    let compared = false;
    for (let attempt = 0; attempt < 3 && !compared; attempt++) {
      const before = noSocketIn(ns.fetchText(url));
      const { gathering, origin } = snapshot('--from', url);
      const after = noSocketIn(ns.fetchText(url));
      if (before !== after) continue; // A new gathering between the two scrapes: compare again.
      compared = true;
      expect(before).toBeGreaterThanOrEqual(N);
      expect(noSocket(gathering)).toBe(before);
      expect(origin).toEqual({
        kind: 'collector',
        url,
        scrapedAt: expect.any(Number),
        metricPrefix: 'kappie_',
        nodeName: expect.any(String),
      });
      expect(gathering.sources.map((s) => [s.name, s.up])).toEqual(
        expect.arrayContaining([
          ['drop_reasons', true],
          ['sockstat', true],
        ]),
      );
    }
    expect(compared).toBe(true);
    // Read, never counted a second time: no instance of the snapshot's own.
    expect(tracefsInstances(ns)).toContain(servingInstance);
    expect(tracefsInstances(ns)).not.toContain(`${servingInstance}-snapshot`);

    // Found where `kappie serve` listens (KAPPIE_LISTEN, as `kubectl exec` inherits it), and said in the text.
    const text = ns.exec('env', `KAPPIE_LISTEN=127.0.0.1:${port}`, process.execPath, COLLECTOR_CLI, 'snapshot');
    expect(text).toMatch(new RegExp(`^From the collector serving ${url.replace(/[./]/g, '\\$&')} on node `));
    expect(text).toMatch(/Drops by reason and direction: counted by the collector since it started/);
    expect(text).toMatch(/^NO_SOCKET\s+ingress\s+\d+$/m);
  });

  it('a named collector that does not answer is an error, not a silent local gathering', () => {
    const closed = `http://127.0.0.1:${port + 1}/metrics`;
    expect(() => ns.exec(process.execPath, COLLECTOR_CLI, 'snapshot', '--from', closed)).toThrow(
      new RegExp(`kappie: cannot read the collector at ${closed.replace(/[./]/g, '\\$&')}: ECONNREFUSED`),
    );
  });

  it('alone, counts the drops made during --duration in an instance of its own, and says so', async () => {
    if (collector) {
      const exit = exited(collector);
      collector.kill('SIGTERM');
      await exit;
      collector = undefined;
    }
    sendDatagrams(ns, BEFORE_WINDOW);
    const child = ns.spawn(process.execPath, [
      COLLECTOR_CLI,
      'snapshot',
      '--json',
      '--duration',
      '2',
      '--sources',
      'drops',
      '--tracefs-instance',
      aloneInstance,
    ]);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exit = exited(child);
    await waitForOutput(child, /counting drops for 2 s in tracefs instance/);
    sendDatagrams(ns, N);
    expect(await exit).toBe(0);
    const { gathering, origin } = readSnapshotJson(stdout);
    expect(origin).toEqual({
      kind: 'local',
      lookedFor: 'http://127.0.0.1:10093/metrics',
      drops: {
        countedBy: 'tracefs_events',
        tracefsInstance: `${aloneInstance}-snapshot`,
        windowSeconds: 2,
        from: expect.any(Number),
        to: expect.any(Number),
      },
    });
    if (origin.kind === 'local' && origin.drops.countedBy === 'tracefs_events') {
      expect(origin.drops.to - origin.drops.from).toBeGreaterThanOrEqual(2000);
    }
    // The window's drops, not the namespace's totals since it was made (its Udp NoPorts is above BEFORE_WINDOW).
    expect(noSocket(gathering)).toBeGreaterThanOrEqual(N);
    expect(noSocket(gathering)).toBeLessThan(BEFORE_WINDOW);
    expect(tracefsInstances(ns)).not.toContain(`${aloneInstance}-snapshot`);
  });

  it('alone, interrupted by SIGINT while counting: stops, removes its instance, says what it counted in one line, exits 130', async () => {
    const child = ns.spawn(process.execPath, [
      COLLECTOR_CLI,
      'snapshot',
      '--duration',
      '60',
      '--sources',
      'drops',
      '--tracefs-instance',
      interruptedInstance,
    ]);
    const output = { stdout: '', stderr: '' };
    child.stdout?.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
    const exit = exited(child);
    await waitForOutput(child, /counting drops for 60 s in tracefs instance/);
    expect(tracefsInstances(ns)).toContain(`${interruptedInstance}-snapshot`);
    sendDatagrams(ns, N);
    child.kill('SIGINT');
    // 128 + SIGINT's number, as a shell reports a command Ctrl-C ended.
    expect(await exit).toBe(130);
    expect(output.stdout).toBe('');
    const lines = output.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^kappie snapshot: counting drops for 60 s/),
      expect.stringMatching(
        /^kappie: snapshot interrupted by SIGINT after \d+(\.\d)? s of its 60 s count: \d+ drops counted so far/,
      ),
    ]);
    const [, after, drops] = /after (\S+) s .*: (\d+) drops counted so far/.exec(lines[1]!)!;
    // Stopped at the signal, not at the end of its 60 s.
    expect(Number(after)).toBeLessThan(30);
    // The datagrams to the closed port, and any other namespace's drops in the window.
    expect(Number(drops)).toBeGreaterThanOrEqual(N);
    expect(lines[1]).toContain('NO_SOCKET');
    expect(lines[1]).toContain('nothing printed');
    expect(tracefsInstances(ns)).not.toContain(`${interruptedInstance}-snapshot`);
  });

  it('alone with nothing dropped, the text says so for the window; --drop-reader counters says nothing of tracefs', () => {
    const text = ns.exec(
      process.execPath,
      COLLECTOR_CLI,
      'snapshot',
      '--duration',
      '0.5',
      '--sources',
      'drops',
      '--tracefs-instance',
      aloneInstance,
    );
    expect(text).toMatch(/^Gathered by this snapshot at .* \(no collector answered at http:\/\/127\.0\.0\.1:10093/);
    expect(text).toMatch(new RegExp(`counted for 0.5 s in tracefs instance ${aloneInstance}-snapshot`));
    // Other namespaces may drop during the window: either rows, or the line that says there were none.
    expect(text).toMatch(/\n {2}\(no drops in 0\.5 s\)\n|\nNO_SOCKET|\n[A-Z_]+\s+(ingress|egress|unknown)\s+\d+\n/);

    const counters = ns.exec(
      process.execPath,
      COLLECTOR_CLI,
      'snapshot',
      '--drop-reader',
      'counters',
      '--sources',
      'drops',
    );
    expect(counters).toMatch(/Drops by reason and direction: kernel drop counters, totals since boot/);
    expect(counters).toMatch(/^NO_SOCKET\s+ingress\s+\d+$/m);
    expect(counters).not.toMatch(/tracefs/);
  });
});
