/** `kappie snapshot` output: the tables a person reads, and the JSON scripts and tests read, in metric names. */
import { METRICS, TCP_FLAGS } from '../../src/catalog';
import type { Gathering } from '../../src/gatherer';
import { parseSnapshotJson, snapshotJson } from '../../src/snapshot-json';
import { renderSnapshot } from '../../src/snapshot-table';

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

describe('snapshot tables', () => {
  it('has a TCP flag table: one row per flag, a column per direction', () => {
    const text = renderSnapshot(gathering);
    const section = text.slice(text.indexOf('TCP segments by flag'));
    expect(section).toMatch(/^flag\s+ingress\s+egress$/m);
    expect(section).toMatch(/^SYN\s+100\s+200$/m);
    expect(section).toMatch(/^CWR\s+108\s+208$/m);
  });

  it('says where to look when there are no TCP flag counts', () => {
    const text = renderSnapshot({ ...gathering, samples: {} });
    expect(text).toMatch(/TCP segments by flag[^\n]*\n {2}\(no data: see the sources table below\)/);
  });
});

describe('snapshot JSON', () => {
  it('names metrics as the catalog does and sources as kappie_source_* do', () => {
    const json = snapshotJson(gathering);
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

  it('reads back into the same gathering', () => {
    expect(parseSnapshotJson(JSON.stringify(snapshotJson(gathering)))).toEqual(gathering);
  });

  it('refuses what it cannot read rather than losing data', () => {
    const json = snapshotJson(gathering);
    expect(() => parseSnapshotJson(JSON.stringify({ ...json, version: 2 }))).toThrow(/version 2/);
    expect(() => parseSnapshotJson(JSON.stringify({ ...json, metrics: { no_such_metric: [] } }))).toThrow(
      /unknown metric "no_such_metric"/,
    );
  });
});
