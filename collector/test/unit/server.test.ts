import * as zlib from 'node:zlib';
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
    collector = await startCollector([counting, failingSource, createSockstatSource()], { cluster: 'c1' });
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

  it('answers health, readiness, unknown paths and methods', async () => {
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${collector.url}/readyz`)).status).toBe(200);
    const missing = await fetch(`${collector.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('not found: /nope');
    const post = await fetch(`${collector.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
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
