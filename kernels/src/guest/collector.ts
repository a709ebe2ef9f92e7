/**
 * The real collector as users run it, `node collector/dist/cli.js serve`, seen only from outside: its log lines
 * (pino JSON on stderr), its /metrics (Prometheus text), its process status. Nothing of collector/src is imported
 * but the metric catalog, so the suite keeps working while the collector's insides change.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { LABEL, METRICS, metricName } from '@kappie/collector/catalog';
import { inNamespace } from './namespaces';

export const COLLECTOR_CLI = path.join(__dirname, '..', '..', '..', 'collector', 'dist', 'cli.js');
export const PORT = 10093;
/** Our tracefs instance and nft table names, as a test collector on a shared host would use. */
export const INSTANCE = 'kappievm';
export const NFT_TABLE = 'kappievm';

export interface LogLine {
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export class RunningCollector {
  readonly log: LogLine[] = [];
  private readonly waiters: { pattern: RegExp; resolve: (line: LogLine) => void }[] = [];
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    let buffered = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text };
        }
        this.log.push(line);
        for (const waiter of [...this.waiters]) {
          if (waiter.pattern.test(line.msg ?? '')) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    });
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /**
   * Starts `kappie serve` (under `wrapper`, e.g. setpriv or `ip netns exec NS`, when given) on 127.0.0.1:PORT with its
   * own tracefs instance and nft table and no scrape reuse window, and waits for the log line `ready` (by default the
   * drop source saying how it counts).
   */
  static async start(
    extraFlags: readonly string[],
    wrapper: readonly string[] = [],
    ready: RegExp = /counting kfree_skb drops in the kernel|streaming kfree_skb drops/,
  ): Promise<RunningCollector> {
    const args = [
      process.execPath,
      COLLECTOR_CLI,
      'serve',
      '--listen',
      `127.0.0.1:${PORT}`,
      '--tracefs-instance',
      INSTANCE,
      '--nft-table',
      NFT_TABLE,
      // Every scrape gathers: a test's "after" scrape within the reuse window of its "before" would read the same
      // gathering and see no growth.
      '--scrape-reuse-window',
      '0',
      // A drop reason first seen mid-test is exported at once, not held at 0 (--new-series-hold, series-birth.ts).
      '--new-series-hold',
      '0',
      ...extraFlags,
    ];
    const command = [...wrapper, ...args];
    const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    const collector = new RunningCollector(child);
    await collector.waitForLog(ready, 120_000);
    return collector;
  }

  /** The first log line (already printed or to come) whose msg matches. */
  waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.log.find((line) => pattern.test(line.msg ?? ''));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const recent = this.log
          .slice(-8)
          .map((l) => JSON.stringify(l))
          .join('\n');
        reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; last lines:\n${recent}`));
      }, timeoutMs);
      this.waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void this.exit.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`collector exited (${code ?? signal}) before logging ${pattern}`));
      });
    });
  }

  /** `Cap*` lines of /proc/<pid>/status: the capability sets the collector process holds. */
  capabilities(): Record<string, bigint> {
    const status = fs.readFileSync(`/proc/${this.child.pid}/status`, 'latin1');
    return Object.fromEntries(
      [...status.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)].map((m) => [m[1]!, BigInt(`0x${m[2]}`)]),
    );
  }

  /** Sends `signal` and waits for the process to end. */
  async stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    return this.exit;
  }
}

/** GET a URL on the guest's loopback. */
export function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { timeout: 60_000 }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          response.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${response.statusCode}`)),
        );
      })
      .on('error', reject);
  });
}

/** One series of a Prometheus text exposition. */
export interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Series of a text exposition (0.0.4): `name{label="value",...} number` lines; comments skipped. */
export function parseExposition(text: string): Series[] {
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line.slice(0, 100)}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]!] = label[2]!;
    }
    series.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return series;
}

/** A scrape, summed the ways the tests look at it. */
export class Scrape {
  constructor(readonly series: readonly Series[]) {}

  static async take(): Promise<Scrape> {
    return new Scrape(parseExposition(await httpGet(`http://127.0.0.1:${PORT}/metrics`)));
  }

  /** A scrape of the collector serving in network namespace `namespace` (busybox wget run there). */
  static inNamespace(namespace: string): Scrape {
    return new Scrape(
      parseExposition(inNamespace(namespace, 'wget', '-q', '-O', '-', `http://127.0.0.1:${PORT}/metrics`)),
    );
  }

  /** The value of the series of `metric` whose labels include `labels`, or undefined. */
  value(metric: string, labels: Readonly<Record<string, string>>): number | undefined {
    return this.series.find(
      (s) => s.name === metric && Object.entries(labels).every(([name, wanted]) => s.labels[name] === wanted),
    )?.value;
  }

  private sumBy(metric: string, reason: string): number {
    return this.series
      .filter((s) => s.name === metric && s.labels[LABEL.reason] === reason)
      .reduce((sum, s) => sum + s.value, 0);
  }

  /** kappie_drop_count for a reason, over every direction. */
  dropCount(reason: string): number {
    return this.sumBy(metricName(METRICS.dropCount), reason);
  }

  /** kappie_drop_bytes for a reason, over every direction. */
  dropBytes(reason: string): number {
    return this.sumBy(metricName(METRICS.dropBytes), reason);
  }

  hasDropBytes(): boolean {
    return this.series.some((s) => s.name === metricName(METRICS.dropBytes));
  }

  /** kappie_source_up by source. */
  sourcesUp(): Record<string, number> {
    return Object.fromEntries(
      this.series.filter((s) => s.name === metricName(METRICS.sourceUp)).map((s) => [s.labels[LABEL.source]!, s.value]),
    );
  }

  lostEvents(source: string): number {
    const name = metricName(METRICS.sourceLostEvents);
    return this.series.find((s) => s.name === name && s.labels[LABEL.source] === source)?.value ?? 0;
  }
}
