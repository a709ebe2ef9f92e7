import * as zlib from 'node:zlib';
import { currentBuildInfo } from '../../src/build-info';
import { resolveConfig } from '../../src/config';
import { Gatherer } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger } from '../../src/log';
import { startServer } from '../../src/server';
import type { Source } from '../../src/source';
import { createSockstatSource } from '../../src/sources/linux/sockstat';
import { startCollector, type RunningCollector } from '../helpers/collector-in-process';

/** A source that counts its gatherings, slowly, so concurrent scrapes overlap. */
function countingSource(): Source & { gatherings: number } {
  const source = {
    name: 'counting',
    description: 'test source',
    platforms: ['linux', 'windows'] as const,
    metrics: ['tcpConnectionStats'] as const,
    gatherings: 0,
    async collect() {
      source.gatherings += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { tcpConnectionStats: [{ labels: { statistic_name: 'RetransSegs' }, value: 12345678901 }] };
    },
  };
  return source;
}

const failingSource: Source = {
  name: 'failing',
  description: 'always fails',
  platforms: ['linux', 'windows'],
  metrics: ['tcpState'],
  collect() {
    throw Object.assign(new Error('EACCES: permission denied, open /proc/net/tcp'), {
      code: 'EACCES',
      path: '/proc/net/tcp',
    });
  },
};

describe('HTTP server', () => {
  let collector: RunningCollector;
  let counting: ReturnType<typeof countingSource>;

  beforeAll(async () => {
    counting = countingSource();
    collector = await startCollector([counting, failingSource, createSockstatSource()], {
      cluster: 'c1',
      // Every scrape gathers here; the reuse window has its own tests below.
      scrapeReuseWindow: '0',
      tracefsInstance: 'kt-configured-instance',
      nftTable: 'ktConfiguredTable',
    });
  });
  afterAll(() => collector.close());

  it('serves /metrics in text format 0.0.4 with exact catalog names and no _total suffix', async () => {
    const response = await fetch(`${collector.url}/metrics`, {
      headers: { Accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('# TYPE kappie_tcp_connection_stats counter');
    expect(text).toContain(
      'kappie_tcp_connection_stats{statistic_name="RetransSegs",node_name="test-node",cluster="c1"} 12345678901',
    );
    expect(text).not.toMatch(/_total[{ ]/);
    expect(text).not.toContain('# EOF');
  });

  it('keeps the scrape whole when a source fails, and reports it down', async () => {
    const text = await (await fetch(`${collector.url}/metrics`)).text();
    expect(text).toContain('kappie_source_up{source="failing",node_name="test-node",cluster="c1"} 0');
    expect(text).toContain('kappie_source_up{source="counting",node_name="test-node",cluster="c1"} 1');
    expect(text).toMatch(/kappie_udp_active_sockets\{node_name="test-node",cluster="c1"\} \d+/);
    const page = await (await fetch(`${collector.url}/`)).text();
    expect(page).toContain('permission denied: /proc/net/tcp');
  });

  it('shares one gathering between concurrent scrapes', async () => {
    const before = counting.gatherings;
    const bodies = await Promise.all(
      Array.from({ length: 5 }, () => fetch(`${collector.url}/metrics`).then((r) => r.text())),
    );
    expect(counting.gatherings - before).toBe(1);
    expect(new Set(bodies).size).toBe(1);
  });

  it('compresses with gzip when asked', async () => {
    const response = await fetch(`${collector.url}/metrics`, { headers: { 'Accept-Encoding': 'gzip' } });
    // fetch decompresses transparently; the header says the wire was gzip.
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.text()).toContain('kappie_build_info');
    const raw = await new Promise<Buffer>((resolve, reject) => {
      void import('node:http').then((http) =>
        http
          .get(`${collector.url}/metrics`, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks)));
          })
          .on('error', reject),
      );
    });
    expect(zlib.gunzipSync(raw).toString()).toContain('kappie_build_info');
  });

  it('answers a client that prefers the plain text, or refuses gzip beside a "*", with the plain text', async () => {
    const raw = (acceptEncoding: string) =>
      new Promise<{ coding: string | undefined; vary: string | undefined; body: Buffer }>((resolve, reject) => {
        void import('node:http').then((http) =>
          http
            .get(`${collector.url}/metrics`, { headers: { 'Accept-Encoding': acceptEncoding } }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () =>
                resolve({
                  coding: res.headers['content-encoding'],
                  vary: res.headers['vary'],
                  body: Buffer.concat(chunks),
                }),
              );
            })
            .on('error', reject),
        );
      });
    for (const acceptEncoding of ['identity, gzip;q=0.5', '*, gzip;q=0']) {
      const plain = await raw(acceptEncoding);
      expect([acceptEncoding, plain.coding, plain.vary]).toEqual([acceptEncoding, undefined, 'Accept-Encoding']);
      expect(plain.body.toString()).toContain('kappie_build_info');
    }
  });

  it("answers a gzip scrape without waiting for libuv's thread pool when the pool is busy", async () => {
    // The gathering (sockstat's synchronous reads, a 100 ms timer) needs no pool thread; the compression did.
    // Every pool thread busy for ~1.5 s (pbkdf2 runs on the pool), as a burst of file or DNS work would keep it.
    const poolThreads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const { pbkdf2 } = await import('node:crypto');
    const busy = Array.from(
      { length: poolThreads },
      () => new Promise((resolve) => pbkdf2('password', 'salt', 1_500_000, 32, 'sha256', resolve)),
    );
    const startedAt = Date.now();
    const response = await fetch(`${collector.url}/metrics`, { headers: { 'Accept-Encoding': 'gzip' } });
    const waited = Date.now() - startedAt;
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.text()).toContain('kappie_build_info');
    await Promise.all(busy);
    const poolSeconds = (Date.now() - startedAt) / 1000;
    // Compressed on the pool, the answer would have waited for a free thread (the whole pbkdf2 run).
    expect(waited).toBeLessThan((poolSeconds * 1000) / 3);
  });

  it('answers health, readiness, unknown paths and methods', async () => {
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${collector.url}/readyz`)).status).toBe(200);
    const missing = await fetch(`${collector.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('this collector serves /metrics');
    const post = await fetch(`${collector.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
  it('never echoes what the client sent, and marks every response nosniff and uncacheable', async () => {
    const probe = '/%3Cscript%3Ealert(1)%3C/script%3E';
    const missing = await fetch(`${collector.url}${probe}`);
    expect(missing.status).toBe(404);
    const body = await missing.text();
    expect(body).not.toContain('script');
    expect(body).not.toContain('alert');
    for (const [path, method, status] of [
      ['/metrics', 'GET', 200],
      ['/', 'GET', 200],
      ['/healthz', 'GET', 200],
      ['/readyz', 'GET', 200],
      [probe, 'GET', 404],
      ['/metrics', 'POST', 405],
    ] as const) {
      const response = await fetch(`${collector.url}${path}`, { method });
      await response.arrayBuffer();
      expect([path, method, response.status]).toEqual([path, method, status]);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('serves the status page with a Content-Security-Policy that allows no script, and reloads it', async () => {
    const response = await fetch(`${collector.url}/`);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const page = await response.text();
    expect(page).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(page).not.toContain('<script');
    // The inline style block is exactly what the policy's hash allows.
    const style = /<style>([^<]*)<\/style>/.exec(page)![1]!;
    const { createHash } = await import('node:crypto');
    expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
  });

  it('names the tracefs instance and nftables table as configured on the status page', async () => {
    const page = await (await fetch(`${collector.url}/`)).text();
    expect(page).toContain('/sys/kernel/tracing/instances/kt-configured-instance');
    expect(page).toContain('inet ktConfiguredTable');
    expect(page).not.toMatch(/instances\/kappie|inet kappie/);
  });
});

describe('scrape reuse window', () => {
  it('answers scrapes within the window from the last gathering, and gathers again after it', async () => {
    const counting = countingSource();
    const collector = await startCollector([counting], { scrapeReuseWindow: '1.5' });
    try {
      const first = await (await fetch(`${collector.url}/metrics`)).text();
      for (let i = 0; i < 5; i += 1) {
        expect(await (await fetch(`${collector.url}/metrics`)).text()).toBe(first);
        await fetch(`${collector.url}/`).then((r) => r.text());
      }
      expect(counting.gatherings).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1600));
      await fetch(`${collector.url}/metrics`).then((r) => r.text());
      expect(counting.gatherings).toBe(2);
    } finally {
      await collector.close();
    }
  });

  it('gathers at every scrape with a window of 0', async () => {
    const counting = countingSource();
    const collector = await startCollector([counting], { scrapeReuseWindow: '0' });
    try {
      for (let i = 0; i < 3; i += 1) await fetch(`${collector.url}/metrics`).then((r) => r.text());
      expect(counting.gatherings).toBe(3);
    } finally {
      await collector.close();
    }
  });
});

describe('readiness', () => {
  it('is not ready before the first gathering, nor when every source is down', async () => {
    const collector = await startCollector([failingSource]);
    try {
      expect((await fetch(`${collector.url}/readyz`)).status).toBe(503);
      await fetch(`${collector.url}/metrics`);
      expect((await fetch(`${collector.url}/readyz`)).status).toBe(503);
    } finally {
      await collector.close();
    }
  });

  it('reports a missing procfs as the source down, not a failed scrape', async () => {
    const collector = await startCollector([createSockstatSource()], { procPath: '/nonexistent/proc' });
    try {
      const response = await fetch(`${collector.url}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('kappie_source_up{source="sockstat",node_name="test-node"} 0');
    } finally {
      await collector.close();
    }
  });
});

describe('startServer (one wiring for kappie serve and the tests)', () => {
  it('serves the configured prefix, node name and listen address, and reports its URL', async () => {
    const config = resolveConfig({ listen: '127.0.0.1:0', nodeName: 'wired-node', metricPrefix: 'wired_' }, {});
    const log = silentLogger();
    const gatherer = new Gatherer([countingSource()], { config, fs: createHostFs(config), log });
    const server = await startServer({ config, gatherer, buildInfo: currentBuildInfo(), log, installed: [] });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.address.port}`);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toContain('wired_tcp_connection_stats{statistic_name="RetransSegs",node_name="wired-node"');
    } finally {
      await server.close();
      await gatherer.stop();
    }
  });
});
