/**
 * `npm run screenshots` (in grafana-plugin/): the catalog screenshots (src/img/<page>.png, listed in plugin.json
 * `info.screenshots`), taken of the app's real pages with real data.
 *
 * 1. Data: unless `--prometheus-url URL` names a Prometheus that already scrapes Kappie collectors, it starts the
 *    real collector (collector/dist, `--cluster local`) and Debian's `prometheus` scraping it every 5 s
 *    (deploy/test/helpers/prometheus-stack.ts), makes traffic (loopback TCP transfers, datagrams to a closed loopback
 *    port, and in a network namespace of its own the drop loop of the kernel tests: a transmit path with its peer
 *    down, a closed port and unread datagrams) and collects for `--minutes N` (default 15).
 * 2. Pages: it bundles screenshots/harness.tsx (the app's root component with Grafana's runtime services installed,
 *    queries going to that Prometheus), serves it on loopback with a proxy to Prometheus, opens each page in Debian's
 *    headless Chromium through playwright-core, waits until every query has been answered, and saves a PNG.
 *
 * Needs root for the namespace (without root the namespace traffic is left out), /usr/bin/chromium
 * (`apt-get install chromium`) and /usr/bin/prometheus. Exits 1 with what is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import webpack from 'webpack';
import { createBlackhole, startDropLoop } from '../../collector/test/helpers/drop-traffic';
import { Namespace, cleanup as cleanupNamespaces, kernelTestsUnavailable } from '../../collector/test/helpers/netns';
import { closedUdpPort, sendDatagramsToClosedPort } from '../../dashboards/test/stack/traffic';
import {
  prometheusStackUnavailable,
  startPrometheusStack,
  type PrometheusStack,
} from '../../deploy/test/helpers/prometheus-stack';
import { STYLE_SHEETS, harnessConfig } from '../screenshots/webpack.config';
import { PAGES } from '../src/scenes/pages';

const PLUGIN_DIR = path.resolve(__dirname, '..');
const IMG_DIR = path.join(PLUGIN_DIR, 'src', 'img');
const CHROMIUM = '/usr/bin/chromium';
const UI_ICONS_DIR = path.join(
  path.dirname(require.resolve('@grafana/ui/package.json')),
  'dist',
  'public',
  'img',
  'icons',
);
const SCRAPE_INTERVAL_SECONDS = 5;
const VIEWPORT = { width: 1600, height: 1000 };
/** Chromium flags for a closed network (no background connections) as root. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ScreenshotOptions {
  readonly prometheusUrl?: string;
  readonly minutes: number;
  readonly scrapeIntervalSeconds: number;
}

/** Parses `--prometheus-url URL`, `--minutes N` and `--scrape-interval S`; throws on anything else. */
export function parseScreenshotArgs(args: readonly string[]): ScreenshotOptions {
  let prometheusUrl: string | undefined;
  let minutes = 15;
  let scrapeIntervalSeconds = SCRAPE_INTERVAL_SECONDS;
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--prometheus-url') prometheusUrl = value.replace(/\/+$/, '');
    else if (flag === '--minutes' || flag === '--scrape-interval') {
      const number = Number(value);
      if (!Number.isFinite(number) || number <= 0) throw new Error(`${flag} takes a positive number, not "${value}"`);
      if (flag === '--minutes') minutes = number;
      else scrapeIntervalSeconds = number;
    } else throw new Error(`unknown argument ${flag}: use --prometheus-url URL, --minutes N, --scrape-interval S`);
  }
  return { prometheusUrl, minutes, scrapeIntervalSeconds };
}

function log(message: string): void {
  process.stdout.write(`screenshots: ${message}\n`);
}

/** Steady traffic while the data is collected; returns a function that stops it. */
async function startTraffic(targetUrl: string): Promise<() => void> {
  const timers: NodeJS.Timeout[] = [];
  // Loopback TCP: fetch the collector's own /metrics (a few hundred kB) several times a second.
  timers.push(
    setInterval(
      () =>
        void fetch(`${targetUrl}/metrics`).then(
          (r) => r.arrayBuffer(),
          () => undefined,
        ),
      200,
    ),
  );
  // NO_SOCKET drops on the host: datagrams to a closed loopback port.
  timers.push(setInterval(() => void sendDatagramsToClosedPort(3).catch(() => undefined), 1000));
  const why = kernelTestsUnavailable();
  if (why) {
    log(`no namespace traffic (${why})`);
  } else {
    const ns = Namespace.create('kss');
    const blackhole = createBlackhole(ns, 'bh0', 'bh1', '198.18.7');
    await startDropLoop(ns, {
      closedPort: await closedUdpPort(),
      blackholeAddress: blackhole,
      purgePort: 40_000,
      intervalMs: 500,
    });
  }
  return () => {
    for (const timer of timers) clearInterval(timer);
    cleanupNamespaces();
  };
}

async function buildHarness(outputDir: string): Promise<void> {
  const compiler = webpack(harnessConfig(outputDir));
  const stats = await new Promise<webpack.Stats>((resolve, reject) =>
    compiler.run((error, result) => (error || !result ? reject(error ?? new Error('no stats')) : resolve(result))),
  );
  await new Promise<void>((resolve) => compiler.close(() => resolve()));
  if (stats.hasErrors()) throw new Error(`the harness bundle failed:\n${stats.toString('errors-only')}`);
  writeIndexHtml(outputDir);
}

/** The harness page: the style sheets @grafana/ui imports, and the bundle. */
export function writeIndexHtml(outputDir: string): void {
  const style = Object.keys(STYLE_SHEETS)
    .map((name) => `<link rel="stylesheet" href="/${name}">`)
    .join('');
  writeFileSync(
    path.join(outputDir, 'index.html'),
    `<!doctype html><html><head><meta charset="utf-8">${style}</head><body><div id="root"></div><script src="/harness.js"></script></body></html>`,
  );
}

const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css',
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.svg': 'image/svg+xml',
};

/**
 * Grafana's icons (@grafana/ui asks for public/build/img/icons/<set>/<name>.svg; the package ships them), the style
 * sheets, the page and the bundle's chunks.
 */
function harnessFile(dir: string, pathname: string): string {
  const icon = /\/public\/build\/img\/icons\/(\w+)\/([\w-]+\.svg)$/.exec(pathname);
  if (icon) return path.join(UI_ICONS_DIR, icon[1] as string, icon[2] as string);
  const sheet = STYLE_SHEETS[pathname.slice(1)];
  if (sheet) return sheet;
  return path.join(dir, pathname === '/' ? 'index.html' : path.basename(pathname));
}

/** Serves the harness and proxies /prometheus/* to Prometheus; resolves with its URL. */
export async function serveHarness(dir: string, prometheusUrl: string): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/prometheus/')) {
      const target = `${prometheusUrl}${url.pathname.slice('/prometheus'.length)}${url.search}`;
      const body: Buffer[] = [];
      request.on('data', (chunk: Buffer) => body.push(chunk));
      request.on('end', () => {
        fetch(target, {
          method: request.method,
          headers: { 'content-type': request.headers['content-type'] ?? 'application/x-www-form-urlencoded' },
          body: request.method === 'POST' ? Buffer.concat(body) : undefined,
        }).then(
          async (answer) => {
            response.writeHead(answer.status, { 'content-type': 'application/json' });
            response.end(Buffer.from(await answer.arrayBuffer()));
          },
          (error: Error) => {
            response.writeHead(502);
            response.end(JSON.stringify({ status: 'error', error: error.message }));
          },
        );
      });
      return;
    }
    const file = harnessFile(dir, url.pathname);
    if (!existsSync(file)) {
      response.writeHead(404);
      response.end();
      return;
    }
    const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    response.writeHead(200, { 'content-type': type });
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

interface QueryCounters {
  kappiePendingQueries?: number;
  kappieAnsweredQueries?: number;
}

async function waitForQuiet(page: import('playwright-core').Page): Promise<void> {
  const deadline = Date.now() + 120_000;
  let quietSince: number | undefined;
  let lastAnswered = -1;
  while (Date.now() < deadline) {
    const { pending, answered } = await page.evaluate(() => {
      const state = window as unknown as QueryCounters;
      return { pending: state.kappiePendingQueries ?? 1, answered: state.kappieAnsweredQueries ?? 0 };
    });
    if (pending === 0 && answered > 0 && answered === lastAnswered) {
      quietSince ??= Date.now();
      if (Date.now() - quietSince >= 2000) return;
    } else quietSince = undefined;
    lastAnswered = answered;
    await page.waitForTimeout(250);
  }
  throw new Error('the page still had queries in flight after 2 minutes');
}

async function takeScreenshots(harnessUrl: string, scrapeIntervalSeconds: number, minutes: number): Promise<string[]> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const written: string[] = [];
  try {
    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    for (const definition of PAGES) {
      const from = `now-${Math.max(5, Math.round(minutes))}m`;
      await page.goto(`${harnessUrl}/?page=${definition.key}&scrape=${scrapeIntervalSeconds}&from=${from}`);
      await page.waitForLoadState('networkidle');
      // Variables are answered first, then every panel's query: wait until none has been in flight for 2 s.
      await waitForQuiet(page);
      if (errors.length > 0) throw new Error(`the ${definition.key} page failed: ${errors.join('; ')}`);
      const file = path.join(IMG_DIR, `${definition.key}.png`);
      await page.screenshot({ path: file });
      written.push(file);
      log(`wrote ${path.relative(PLUGIN_DIR, file)}`);
    }
  } finally {
    await browser.close();
  }
  return written;
}

async function main(): Promise<number> {
  const options = parseScreenshotArgs(process.argv.slice(2));
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`screenshots: ${CHROMIUM} is missing: apt-get install chromium\n`);
    return 1;
  }
  let stack: PrometheusStack | undefined;
  let stopTraffic: (() => void) | undefined;
  const workDir = mkdtempSync(path.join(tmpdir(), 'kappie-screenshots-'));
  try {
    let prometheusUrl = options.prometheusUrl;
    if (!prometheusUrl) {
      const unavailable = prometheusStackUnavailable();
      if (unavailable) {
        process.stderr.write(`screenshots: cannot start the collector and Prometheus: ${unavailable}\n`);
        return 1;
      }
      stack = await startPrometheusStack({
        scrapeIntervalSeconds: options.scrapeIntervalSeconds,
        collectorArgs: ['--cluster', 'local'],
        nodeName: spawnSync('hostname', { encoding: 'utf8' }).stdout.trim() || undefined,
      });
      prometheusUrl = stack.prometheusUrl;
      stopTraffic = await startTraffic(stack.collectorUrl);
      log(`collecting for ${options.minutes} min (Prometheus on ${prometheusUrl})`);
    }
    const build = buildHarness(workDir);
    await Promise.all([build, new Promise((resolve) => setTimeout(resolve, stack ? options.minutes * 60_000 : 0))]);
    const server = await serveHarness(workDir, prometheusUrl);
    try {
      await takeScreenshots(server.url, options.scrapeIntervalSeconds, options.minutes);
    } finally {
      server.close();
    }
    return 0;
  } finally {
    stopTraffic?.();
    await stack?.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`screenshots: ${error.stack ?? error.message}\n`);
      process.exit(1);
    },
  );
}
