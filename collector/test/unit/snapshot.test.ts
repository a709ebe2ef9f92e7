/** `kappie snapshot` output: the tables a person reads, and the JSON scripts and tests read, in metric names. */
import { METRICS, TCP_FLAGS, type MetricKey } from '../../src/catalog';
import type { Gathering } from '../../src/gatherer';
import { parseSnapshotJson, readSnapshotJson, snapshotJson } from '../../src/snapshot-json';
import type { SnapshotOrigin } from '../../src/snapshot-origin';
import { renderSnapshot, type SnapshotTableInput } from '../../src/snapshot-table';

const gathering: Gathering = {
  at: Date.parse('2026-01-02T03:04:05.000Z'),
  samples: {
    udpActiveSockets: [{ labels: {}, value: 7 }],
    tcpFlagCounters: TCP_FLAGS.flatMap((flag, i) => [
      { labels: { flag, direction: 'ingress' }, value: 100 + i },
      { labels: { flag, direction: 'egress' }, value: 200 + i },
    ]),
    tcpState: [{ labels: { state: 'LISTEN' }, value: 3 }],
  },
  sources: [
    {
      name: 'sockstat',
      source: 'sockstat',
      description: 'reads sockstat',
      up: true,
      reason: undefined,
      durationSeconds: 0.002,
      lostEvents: 0,
    },
    {
      name: 'tcp_flags',
      source: 'tcp_flags',
      description: 'nft',
      up: false,
      reason: 'nft: not permitted',
      durationSeconds: 0.01,
      lostEvents: 0,
    },
  ],
};

const METRIC_SOURCES: ReadonlyMap<MetricKey, readonly string[]> = new Map<MetricKey, string[]>([
  ['dropCount', ['drops']],
  ['tcpState', ['tcp_sockets']],
  ['tcpFlagCounters', ['tcp_flags']],
  ['udpActiveSockets', ['sockstat']],
]);
const WINDOW: SnapshotOrigin = {
  kind: 'local',
  lookedFor: 'http://127.0.0.1:10093/metrics',
  drops: {
    countedBy: 'tracefs_events',
    tracefsInstance: 'kappie-snapshot',
    windowSeconds: 10,
    from: Date.parse('2026-01-02T03:03:55.000Z'),
    to: Date.parse('2026-01-02T03:04:05.000Z'),
  },
};
const COLLECTOR: SnapshotOrigin = {
  kind: 'collector',
  url: 'http://127.0.0.1:10093/metrics',
  scrapedAt: Date.parse('2026-01-02T03:04:05.000Z'),
  metricPrefix: 'kappie_',
  nodeName: 'node-a',
};

function render(input: Partial<SnapshotTableInput> = {}): string {
  return renderSnapshot({ gathering, origin: WINDOW, metricSources: METRIC_SOURCES, ...input });
}

/** The lines of the section that starts with `title`, up to the blank line that ends it. */
function sectionOf(text: string, title: string): string {
  const start = text.indexOf(title);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = text.indexOf('\n\n', start);
  return text.slice(start, end < 0 ? undefined : end);
}

const DROPS: Gathering['samples'] = {
  dropCount: [
    { labels: { reason: 'NO_SOCKET', direction: 'ingress' }, value: 40 },
    { labels: { reason: 'NETDEV_RX_DROP', direction: 'ingress' }, value: 0 },
  ],
};
const DROP_STATUS = {
  name: 'drop_reasons',
  source: 'drops',
  description: 'drops',
  up: true,
  reason: undefined,
  durationSeconds: 0.001,
  lostEvents: 0,
};

describe('snapshot tables', () => {
  it('has a TCP flag table: one row per flag, a column per direction', () => {
    const text = render();
    const section = text.slice(text.indexOf('TCP segments by flag'));
    expect(section).toMatch(/^flag\s+ingress\s+egress$/m);
    expect(section).toMatch(/^SYN\s+100\s+200$/m);
    expect(section).toMatch(/^CWR\s+108\s+208$/m);
  });

  it('explains an empty TCP flag table with the reason its source gave', () => {
    const text = render({ gathering: { ...gathering, samples: {} } });
    expect(sectionOf(text, 'TCP segments by flag')).toMatch(
      /\n {2}\(no data: source tcp_flags is DOWN: nft: not permitted\)$/,
    );
  });

  it('says where the numbers came from, and over which span drops were counted', () => {
    const alone = render({ gathering: { ...gathering, samples: DROPS, sources: [DROP_STATUS] } });
    expect(alone).toMatch(
      /^Gathered by this snapshot at 2026-01-02T03:04:05.000Z \(no collector answered at http:\/\/127/,
    );
    const drops = sectionOf(alone, 'Drops by reason');
    expect(drops).toMatch(/counted for 10 s in tracefs instance kappie-snapshot \(2026-01-02T03:03:55.000Z to/);
    expect(drops).toMatch(/^NO_SOCKET\s+ingress\s+40$/m);
    expect(drops).not.toContain('NETDEV_RX_DROP');
    expect(drops).toContain('(1 reasons at 0 not shown)');

    const served = render({ gathering: { ...gathering, samples: DROPS, sources: [DROP_STATUS] }, origin: COLLECTOR });
    expect(served).toMatch(
      /^From the collector serving http:\/\/127.0.0.1:10093\/metrics on node node-a, scraped at 2026-01-02T03:04:05.000Z/,
    );
    expect(sectionOf(served, 'Drops by reason')).toMatch(/counted by the collector since it started/);
  });

  it('explains an empty drops table: nothing in the window, nothing since the collector started, not run', () => {
    const noDrops = { ...gathering, samples: {}, sources: [DROP_STATUS] };
    expect(sectionOf(render({ gathering: noDrops }), 'Drops by reason')).toMatch(/\n {2}\(no drops in 10 s\)$/);
    // A collector's /metrics reads 0 for a reason in its --new-series-hold: the note says so (a new user saw
    // "no drops" beside a collector that had counted 30 a moment before).
    const collectorEmpty = sectionOf(render({ gathering: noDrops, origin: COLLECTOR }), 'Drops by reason');
    expect(collectorEmpty.replace(/\s+/g, ' ')).toMatch(
      /\(no drops since the collector started, or only reasons that first appeared less than --new-series-hold \(90 s by default\) ago: they read 0 on \/metrics until their hold ends/,
    );
    const down = { ...noDrops, sources: [{ ...DROP_STATUS, up: false, reason: undefined }] };
    expect(sectionOf(render({ gathering: down, origin: COLLECTOR }), 'Drops by reason')).toMatch(
      /\(no data: source drop_reasons is DOWN: see http:\/\/127.0.0.1:10093\/\)$/,
    );
    expect(sectionOf(render({ gathering: { ...noDrops, sources: [] } }), 'Drops by reason')).toMatch(
      /\(not gathered: drops was not run, see --sources\)$/,
    );
  });

  it('fits its tables to the width: a long reason wraps under its column instead of widening the divider', () => {
    const reason = 'a long reason '.repeat(20).trim();
    const text = render({
      gathering: { ...gathering, sources: [{ ...gathering.sources[1]!, reason }] },
      width: 80,
    });
    const lines = text.split('\n');
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(80);
    const sources = sectionOf(text, 'Sources');
    expect(sources.replace(/\s+/g, ' ')).toContain(reason);
    expect(sources.split('\n')[2]).toMatch(/^-+ {2}-+ {2}-+ {2}-+$/);
  });
});

describe('snapshot JSON', () => {
  it('names metrics as the catalog does and sources as kappie_source_* do', () => {
    const json = snapshotJson(gathering, WINDOW);
    expect(Object.keys(json.metrics)).toEqual([
      METRICS.tcpState.name,
      METRICS.tcpFlagCounters.name,
      METRICS.udpActiveSockets.name,
    ]);
    expect(json.gathered_at).toBe('2026-01-02T03:04:05.000Z');
    expect(json.sources[1]).toEqual({
      name: 'tcp_flags',
      source: 'tcp_flags',
      up: false,
      reason: 'nft: not permitted',
      collection_duration_seconds: 0.01,
      lost_events: 0,
      description: 'nft',
    });
    expect(JSON.stringify(json)).not.toMatch(/udpActiveSockets|tcpFlagCounters|durationSeconds|lostEvents/);
  });

  it('carries where the numbers came from', () => {
    expect(snapshotJson(gathering, WINDOW).origin).toEqual({
      kind: 'local',
      looked_for: 'http://127.0.0.1:10093/metrics',
      drops: {
        counted_by: 'tracefs_events',
        tracefs_instance: 'kappie-snapshot',
        window_seconds: 10,
        from: '2026-01-02T03:03:55.000Z',
        to: '2026-01-02T03:04:05.000Z',
      },
    });
    expect(snapshotJson(gathering, COLLECTOR).origin).toEqual({
      kind: 'collector',
      url: 'http://127.0.0.1:10093/metrics',
      scraped_at: '2026-01-02T03:04:05.000Z',
      metric_prefix: 'kappie_',
      node_name: 'node-a',
    });
  });

  it.each([
    ['a window', WINDOW],
    ['a collector', COLLECTOR],
    ['the kernel counters', { kind: 'local', lookedFor: undefined, drops: { countedBy: 'kernel_counters', why: 'x' } }],
    ['no drops source', { kind: 'local', lookedFor: undefined, drops: { countedBy: 'none' } }],
  ] as [string, SnapshotOrigin][])('reads back into the same gathering and origin (%s)', (_, origin) => {
    expect(readSnapshotJson(JSON.stringify(snapshotJson(gathering, origin)))).toEqual({ gathering, origin });
    expect(parseSnapshotJson(JSON.stringify(snapshotJson(gathering, origin)))).toEqual(gathering);
  });

  it('refuses what it cannot read rather than losing data', () => {
    const json = snapshotJson(gathering, WINDOW);
    expect(() => parseSnapshotJson(JSON.stringify({ ...json, version: 2 }))).toThrow(/version 2/);
    expect(() => parseSnapshotJson(JSON.stringify({ ...json, metrics: { no_such_metric: [] } }))).toThrow(
      /unknown metric "no_such_metric"/,
    );
    expect(() => parseSnapshotJson(JSON.stringify({ ...json, origin: undefined }))).toThrow(/without its origin/);
  });
});
