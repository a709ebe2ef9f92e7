/**
 * A real monitoring stack for tests: the built collector (`node collector/dist/cli.js serve`) and Debian's
 * `prometheus`, both on free loopback ports, Prometheus scraping the collector with the static scrape configuration
 * from deploy/prometheus/prometheus-static.yml (rendered with the real target and a short interval).
 *
 * Reusable by any workspace (the dashboards run every panel query through it). It depends on Node and `yaml` only,
 * not on Jest. `close()` stops both processes and removes the temporary directories; a failed start cleans up too,
 * and so does the exit of the test process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { shebangNodeFlags } from '../../../collector/src/node-flags';

export const REPO_ROOT = path.join(__dirname, '..', '..', '..');
export const COLLECTOR_CLI = path.join(REPO_ROOT, 'collector', 'dist', 'cli.js');
export const STATIC_SCRAPE_CONFIG = path.join(REPO_ROOT, 'deploy', 'prometheus', 'prometheus-static.yml');
/** The scrape job of the static configuration (the `job` label of every series). */
export const SCRAPE_JOB = 'kappie';
export const PROMETHEUS_BINARY = '/usr/bin/prometheus';

export interface PromVectorSample {
  readonly metric: Record<string, string>;
  /** [unix seconds, value as Prometheus writes it] */
  readonly value: [number, string];
}
export interface PromMatrixSeries {
  readonly metric: Record<string, string>;
  readonly values: [number, string][];
}
export type PromVectorOrMatrix =
  | { readonly resultType: 'vector'; readonly result: PromVectorSample[] }
  | { readonly resultType: 'matrix'; readonly result: PromMatrixSeries[] }
  | { readonly resultType: 'scalar' | 'string'; readonly result: [number, string] };
export type PromMatrix = Extract<PromVectorOrMatrix, { resultType: 'matrix' }>;

export interface PrometheusStack {
  readonly prometheusUrl: string;
  readonly collectorUrl: string;
  /** The node_name the collector writes on every series. */
  readonly nodeName: string;
  /** Instant query (/api/v1/query); throws with Prometheus' error text on bad PromQL. */
  query(promql: string, time?: number): Promise<PromVectorOrMatrix>;
  /** Range query (/api/v1/query_range); throws with Prometheus' error text on bad PromQL. */
  queryRange(promql: string, startSec: number, endSec: number, stepSec: number): Promise<PromMatrix>;
  /** Metric metadata as Prometheus learnt it from the scrapes (/api/v1/metadata). */
  metadata(): Promise<Record<string, { type: string; help: string; unit?: string }[]>>;
  /** The collector's own /metrics text. */
  collectorMetrics(): Promise<string>;
  /** Resolves once Prometheus has stored at least `n` successful scrapes of the collector. */
  waitForScrapes(n: number): Promise<void>;
  /**
   * Stops the collector alone (SIGTERM), as on a node whose collector vanished: Prometheus keeps running and its
   * scrapes of the collector's address fail from then on.
   */
  stopCollector(): Promise<void>;
  /** Stops both processes and removes the temporary directories. Safe to call twice. */
  close(): Promise<void>;
}

export interface PrometheusStackOptions {
  /** Extra `kappie serve` arguments (e.g. ['--sources', 'sockstat']). --listen is chosen by the stack. */
  readonly collectorArgs?: readonly string[];
  /** Scrape and rule evaluation interval; default 1 second. */
  readonly scrapeIntervalSeconds?: number;
  /** Rule files Prometheus loads (absolute paths or relative to the repository root). */
  readonly ruleFiles?: readonly string[];
  /** node_name for the collector; default a unique test name. */
  readonly nodeName?: string;
  /**
   * A whole Prometheus configuration instead of the static one, given the collector's host:port (for testing other
   * scrape configurations, e.g. Azure's). It must scrape the collector in a job named "kappie".
   */
  readonly prometheusConfig?: (target: string) => string;
  /** How long to wait for the first successful scrape; default 60 s. */
  readonly startTimeoutMs?: number;
}

/** Why the stack cannot run on this machine, or undefined when it can. */
export function prometheusStackUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (!fs.existsSync(PROMETHEUS_BINARY)) return `${PROMETHEUS_BINARY} is missing (apt-get install prometheus)`;
  return undefined;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A free TCP port on loopback (the OS picks it; a process that loses the race is restarted by the caller). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds the collector when collector/dist is missing or older than its sources (npm test builds it first). */
export function ensureCollectorBuilt(): void {
  const sources = path.join(REPO_ROOT, 'collector', 'src');
  if (fs.existsSync(COLLECTOR_CLI) && fs.statSync(COLLECTOR_CLI).mtimeMs >= newestMtime(sources)) return;
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-b', path.join(REPO_ROOT, 'collector')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building the collector failed: ${result.stdout}${result.stderr}`);
}

/** Node.js flags the bin's shebang gives (`#!/usr/bin/env -S node --flag`), so tests run the collector as `kappie` runs. */
export function collectorNodeFlags(): string[] {
  return shebangNodeFlags(fs.readFileSync(COLLECTOR_CLI, 'utf8').split('\n', 1)[0] ?? '');
}

/** Collects a child's output (bounded) so failures can say what the process printed. */
function captureOutput(child: ChildProcess): () => string {
  let text = '';
  const append = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => text;
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const finish = (error: Error | undefined, match?: RegExpExecArray) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(match!);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match) finish(undefined, match);
    };
    const onExit = (code: number | null) =>
      finish(new Error(`process exited (${code}) before printing ${pattern}; output: ${seen}`));
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern}; output: ${seen}`)), timeoutMs);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Stops a child process: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // SIGTERM first: the collector removes what it installed in the kernel (tracefs instance, nft table) on exit.
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  running.delete(child);
}

/** The static scrape configuration with the real target, the test interval and the given rule files. */
export function renderStaticConfig(target: string, intervalSeconds: number, ruleFiles: readonly string[]): string {
  const config = parse(fs.readFileSync(STATIC_SCRAPE_CONFIG, 'utf8')) as {
    global: Record<string, unknown>;
    rule_files?: string[];
    scrape_configs: {
      job_name: string;
      scrape_interval?: string;
      scrape_timeout?: string;
      static_configs: { targets: string[] }[];
    }[];
  };
  const interval = `${intervalSeconds}s`;
  config.global.scrape_interval = interval;
  config.global.evaluation_interval = interval;
  config.rule_files = ruleFiles.map((file) => path.resolve(REPO_ROOT, file));
  const job = config.scrape_configs.find((scrape) => scrape.job_name === SCRAPE_JOB);
  if (!job) throw new Error(`${STATIC_SCRAPE_CONFIG} has no scrape job "${SCRAPE_JOB}"`);
  job.scrape_interval = interval;
  job.scrape_timeout = interval;
  job.static_configs = [{ targets: [target] }];
  return stringify(config);
}

/**
 * Arguments that keep this collector's kernel state apart from other collectors running at the same time on this
 * host (other test files, other workspaces' tests): a unique tracefs instance and nftables table name, unless the
 * caller chose its own.
 */
export function isolationArgs(args: readonly string[]): string[] {
  const isolation: string[] = [];
  if (!args.includes('--tracefs-instance')) {
    isolation.push('--tracefs-instance', `kappie-stack-${randomBytes(4).toString('hex')}`);
  }
  if (!args.includes('--nft-table')) {
    isolation.push('--nft-table', `kappie-stack-${randomBytes(4).toString('hex')}`);
  }
  return isolation;
}

async function startCollector(
  args: readonly string[],
  nodeName: string,
  timeoutMs: number,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  ensureCollectorBuilt();
  const child = spawn(
    process.execPath,
    [
      ...collectorNodeFlags(),
      COLLECTOR_CLI,
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--node-name',
      nodeName,
      ...isolationArgs(args),
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAPPIE_LOG_LEVEL: 'info' } },
  );
  running.add(child);
  const output = captureOutput(child);
  const match = await waitForLine(child, /serving \/metrics on port (\d+)/, timeoutMs);
  return { child, url: `http://127.0.0.1:${match[1]}`, output };
}

/**
 * Starts Debian's Prometheus with `configText` (written to `dir`, which also holds its TSDB) on a free loopback port;
 * resolves once it is ready to serve. Stop it with stopProcess.
 */
export async function startPrometheus(
  dir: string,
  configText: string,
  timeoutMs: number,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, configText);
  let lastError: unknown;
  // The free port may be taken between choosing it and Prometheus binding it (other tests run in parallel): retry.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const child = spawn(
      PROMETHEUS_BINARY,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, `tsdb-${attempt}`)}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=info',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(child);
    const output = captureOutput(child);
    try {
      await waitForLine(child, /Server is ready to receive web requests/, timeoutMs);
      return { child, url: `http://127.0.0.1:${port}`, output };
    } catch (error) {
      lastError = error;
      await stopProcess(child);
      if (!/address already in use/.test(output())) break;
    }
  }
  throw lastError;
}

interface ApiResponse<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

async function apiGet<T>(baseUrl: string, endpoint: string, params: Record<string, string>): Promise<T> {
  const url = `${baseUrl}${endpoint}?${new URLSearchParams(params).toString()}`;
  const response = await fetch(url);
  const body = (await response.json()) as ApiResponse<T>;
  if (body.status !== 'success' || body.data === undefined) {
    const what = params.query !== undefined ? ` for ${params.query}` : '';
    throw new Error(`Prometheus ${endpoint}${what}: ${body.errorType ?? response.status}: ${body.error ?? 'no data'}`);
  }
  return body.data;
}

export async function startPrometheusStack(options: PrometheusStackOptions = {}): Promise<PrometheusStack> {
  const unavailable = prometheusStackUnavailable();
  if (unavailable) throw new Error(`cannot start the Prometheus stack: ${unavailable}`);
  const interval = options.scrapeIntervalSeconds ?? 1;
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const nodeName = options.nodeName ?? `kappie-stack-${randomBytes(3).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-prometheus-'));
  const children: ChildProcess[] = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    // Prometheus first, so it does not log failed scrapes of a stopped collector.
    for (const child of [...children].reverse()) await stopProcess(child);
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const collector = await startCollector(options.collectorArgs ?? [], nodeName, timeoutMs);
    children.push(collector.child);
    const target = new URL(collector.url).host;
    const configText = options.prometheusConfig
      ? options.prometheusConfig(target)
      : renderStaticConfig(target, interval, options.ruleFiles ?? []);
    const prometheus = await startPrometheus(dir, configText, timeoutMs);
    children.push(prometheus.child);
    const prometheusUrl = prometheus.url;

    const query = (promql: string, time?: number) =>
      apiGet<PromVectorOrMatrix>(prometheusUrl, '/api/v1/query', {
        query: promql,
        ...(time === undefined ? {} : { time: String(time) }),
      });

    const waitFor = async (what: string, check: () => Promise<boolean>) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (await check()) return;
        if (Date.now() > deadline) {
          throw new Error(
            `timed out waiting for ${what}\n--- collector output:\n${collector.output()}\n--- prometheus output:\n${prometheus.output()}`,
          );
        }
        await sleep(250);
      }
    };
    const scalarOf = async (promql: string): Promise<number> => {
      const data = await query(promql);
      if (data.resultType !== 'vector' || data.result.length === 0) return 0;
      return Number(data.result[0]!.value[1]);
    };
    const upSelector = `up{job="${SCRAPE_JOB}"}`;

    const stack: PrometheusStack = {
      prometheusUrl,
      collectorUrl: collector.url,
      nodeName,
      query,
      async queryRange(promql, startSec, endSec, stepSec) {
        const data = await apiGet<PromVectorOrMatrix>(prometheusUrl, '/api/v1/query_range', {
          query: promql,
          start: String(startSec),
          end: String(endSec),
          step: String(stepSec),
        });
        if (data.resultType !== 'matrix') throw new Error(`query_range for ${promql} returned ${data.resultType}`);
        return data;
      },
      metadata: () =>
        apiGet<Record<string, { type: string; help: string; unit?: string }[]>>(prometheusUrl, '/api/v1/metadata', {}),
      async collectorMetrics() {
        const response = await fetch(`${collector.url}/metrics`);
        if (!response.ok) throw new Error(`collector /metrics answered ${response.status}`);
        return response.text();
      },
      waitForScrapes: (n) =>
        // A range wide enough for any test; sum_over_time(up) counts the successful scrapes.
        waitFor(`${n} successful scrapes`, async () => (await scalarOf(`sum_over_time(${upSelector}[1h])`)) >= n),
      stopCollector: () => stopProcess(collector.child),
      close,
    };
    await waitFor(`${upSelector} == 1`, async () => (await scalarOf(upSelector)) === 1);
    return stack;
  } catch (error) {
    await close();
    throw error;
  }
}

/** Metric names with at least one sample in a collector's exposition text. */
export function exportedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (name) names.add(name);
  }
  return names;
}

/** A literal value made safe inside a PromQL regex matcher (=~), as Grafana escapes a variable's value. */
export function escapePromRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
