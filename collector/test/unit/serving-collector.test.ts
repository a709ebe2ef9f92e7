/**
 * `kappie snapshot` next to a serving collector: where it looks, and that a collector's /metrics read back gives the
 * gathering the collector exported (the recorded node root gathered and exposed by the real Exposition, in both
 * naming modes).
 */
import * as path from 'node:path';
import { LABEL, NETWORK_METRIC_KEYS, RETINA_METRIC_PREFIX } from '../../src/catalog';
import { resolveConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { Exposition } from '../../src/exposition';
import { Gatherer } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger } from '../../src/log';
import { collectorTarget, gatheringFromExposition, ServingCollectorError } from '../../src/serving-collector';
import { selectSources } from '../../src/sources';
import { FIXTURES } from '../helpers/fixtures';

const ROOT = path.join(FIXTURES, 'linux', 'golden');
const BUILD_INFO = { version: '0.0.0-test', os: 'linux', arch: 'x64', kernel: 'recorded' };

async function exposeRecordedRoot(compat: 'none' | 'retina') {
  const config = resolveConfig(
    {
      procPath: path.join(ROOT, 'proc'),
      sysPath: path.join(ROOT, 'sys'),
      nodeName: 'node-a',
      cluster: 'cluster-a',
      tcpSocketReader: 'procfs',
      dropReader: 'counters',
      newSeriesHold: '0',
      compat,
      sources: 'sockstat,netdev,forward,snmp,tcp_sockets,drops',
    },
    {},
  );
  const gatherer = new Gatherer(selectSources(config, 'linux'), {
    config,
    fs: createHostFs(config),
    log: silentLogger(),
  });
  try {
    return await new Exposition(gatherer, config, BUILD_INFO).scrape();
  } finally {
    await gatherer.stop();
  }
}

describe('the collector a snapshot reads', () => {
  it.each([
    [undefined, 'http://127.0.0.1:10093/metrics'],
    [':10093', 'http://127.0.0.1:10093/metrics'],
    ['0.0.0.0:9999', 'http://127.0.0.1:9999/metrics'],
    ['[::]:9999', 'http://[::1]:9999/metrics'],
    ['10.1.2.3:10093', 'http://10.1.2.3:10093/metrics'],
    ['fd00::4:10093', 'http://[fd00::4]:10093/metrics'],
  ])('with KAPPIE_LISTEN=%s looks at %s', (listen, url) => {
    expect(collectorTarget(undefined, listen)).toEqual({
      url,
      authorization: undefined,
      named: false,
      port: Number(/(\d+)\/metrics$/.exec(url)![1]),
    });
  });

  it('takes --from as given, credentials moved to an Authorization header; none gathers here', () => {
    expect(collectorTarget('https://ops:s%3Acret@node:9100', undefined)).toEqual({
      url: 'https://node:9100/metrics',
      authorization: `Basic ${Buffer.from('ops:s:cret').toString('base64')}`,
      named: true,
    });
    expect(collectorTarget('http://127.0.0.1:1/custom', ':10093')?.url).toBe('http://127.0.0.1:1/custom');
    expect(collectorTarget('none', ':10093')).toBeUndefined();
  });

  it('refuses a --from that is not an http(s) URL, and a bad KAPPIE_LISTEN, naming them', () => {
    expect(() => collectorTarget('127.0.0.1:10093', undefined)).toThrow(ConfigError);
    expect(() => collectorTarget('127.0.0.1:10093', undefined)).toThrow(/--from: "127.0.0.1:10093" is not a URL/);
    expect(() => collectorTarget('ftp://x/metrics', undefined)).toThrow(/not an http or https URL/);
    expect(() => collectorTarget(undefined, 'nonsense')).toThrow(/KAPPIE_LISTEN/);
  });
});

describe("a collector's /metrics read back", () => {
  it('gives every network series the collector exported, and a status per source', async () => {
    const { text, gathering } = await exposeRecordedRoot('none');
    const read = gatheringFromExposition(text, 'http://node-a:10093/metrics', 1234, (name) => `about ${name}`);
    expect(read.metricPrefix).toBe('kappie_');
    expect(read.nodeName).toBe('node-a');
    expect(read.gathering.at).toBe(1234);
    for (const key of NETWORK_METRIC_KEYS) expect(read.gathering.samples[key]).toEqual(gathering.samples[key]);
    expect(read.gathering.sources).toEqual(
      gathering.sources.map((s) => ({
        ...s,
        description: `about ${s.source}`,
        reason: undefined,
        durationSeconds: expect.any(Number),
      })),
    );
    expect(read.gathering.sources.find((s) => s.name === 'drop_counters')?.source).toBe('drops');
  });

  it("reads a --compat retina collector under Retina's prefix", async () => {
    const { text } = await exposeRecordedRoot('retina');
    const read = gatheringFromExposition(text, 'http://node-a:10093/metrics', 0);
    expect(read.metricPrefix).toBe(RETINA_METRIC_PREFIX);
    expect(read.gathering.samples.dropCount?.length).toBeGreaterThan(0);
    expect(read.gathering.samples.dropCount?.[0]?.labels).not.toHaveProperty(LABEL.nodeName);
  });

  it("refuses what is not a Kappie collector's /metrics", () => {
    expect(() => gatheringFromExposition('node_load1 0.5\n', 'http://x/metrics', 0)).toThrow(ServingCollectorError);
    expect(() => gatheringFromExposition('node_load1 0.5\n', 'http://x/metrics', 0)).toThrow(
      /not a Kappie collector's \/metrics/,
    );
  });
});
