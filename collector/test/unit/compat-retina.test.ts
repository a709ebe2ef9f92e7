/**
 * `--compat retina`: the mapping table's own consistency, the configuration, and the exposition of a recorded node
 * (the golden proc root) in both modes: compat mode writes the label values Retina's dashboard queries, series for
 * series and value for value, and the default mode stays byte for byte the golden text.
 */
import * as path from 'node:path';
import { LABEL, METRICS, METRIC_KEYS, RETINA_METRIC_PREFIX, TCP_FLAGS, type MetricKey } from '../../src/catalog';
import {
  RETINA_FAMILY_MOVES,
  RETINA_FAMILY_TYPES,
  RETINA_LABEL_VALUES,
  toRetinaFamilies,
} from '../../src/compat-retina';
import { resolveConfig, type CompatMode } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { Exposition } from '../../src/exposition';
import { Gatherer } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger } from '../../src/log';
import type { SampleView } from '../../src/source';
import { selectSources } from '../../src/sources';
import { TCP_DEFAULT_STATISTICS } from '../../src/sources/linux/snmp-statistics';
import { FIXTURES } from '../helpers/fixtures';

const ROOT = path.join(FIXTURES, 'linux', 'golden');

/** One scrape of the recorded node in a mode (the golden exposition test's sources, without drops). */
async function scrapeRecordedNode(compat: CompatMode): Promise<string> {
  const config = resolveConfig(
    {
      procPath: path.join(ROOT, 'proc'),
      sysPath: path.join(ROOT, 'sys'),
      nodeName: 'golden-node',
      tcpSocketReader: 'procfs',
      sources: 'sockstat,netdev,forward,snmp,tcp_sockets',
      compat,
    },
    {},
  );
  const gatherer = new Gatherer(selectSources(config, 'linux'), {
    config,
    fs: createHostFs(config),
    log: silentLogger(),
  });
  try {
    const { text } = await new Exposition(gatherer, config, {
      version: 'test',
      os: 'linux',
      arch: 'x64',
      kernel: 'recorded',
    }).scrape();
    return text;
  } finally {
    await gatherer.stop();
  }
}

/** Sample lines (no comments, no collection durations, which are wall time) as "name{labels}" -> value. */
function samples(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.includes('collection_duration')) continue;
    const at = line.lastIndexOf(' ');
    result.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return result;
}

const statistic = (text: string, metric: string, name: string) =>
  [...samples(text)].find(([series]) => series.startsWith(`${metric}{statistic_name="${name}"`))?.[1];

describe('the mapping table', () => {
  it('maps only labels the metric has, from values our sources write, one to one', () => {
    const groups = new Map<string, { ours: Set<string>; retina: Set<string> }>();
    for (const entry of RETINA_LABEL_VALUES) {
      expect(METRICS[entry.metric].labels as readonly string[]).toContain(entry.label);
      const group = groups.get(`${entry.metric} ${entry.label}`) ?? { ours: new Set(), retina: new Set() };
      expect(group.ours.has(entry.ours) || group.retina.has(entry.retina)).toBe(false);
      group.ours.add(entry.ours);
      group.retina.add(entry.retina);
      groups.set(`${entry.metric} ${entry.label}`, group);
      // A Retina value is never one of our own values: a renamed series cannot collide with an unrenamed one.
      expect(group.ours.has(entry.retina)).toBe(false);
      for (const text of [entry.panel, entry.agent, entry.meaning]) expect(text.length).toBeGreaterThan(10);
    }
    for (const flag of TCP_FLAGS) {
      expect(RETINA_LABEL_VALUES.find((e) => e.metric === 'tcpFlagCounters' && e.ours === flag)?.retina).toBe(
        flag.toLowerCase(),
      );
    }
  });

  it("maps TCP statistics the default statistic set exports, so the dashboard's panels have data by default", () => {
    const tcp = RETINA_LABEL_VALUES.filter((e) => e.metric === 'tcpConnectionStats').map((e) => e.ours);
    expect(tcp).toEqual(['TCPTimeouts', 'EstabResets', 'TCPTSReorder']);
    for (const name of tcp) expect(TCP_DEFAULT_STATISTICS as readonly string[]).toContain(name);
  });

  it('moves a family only into one whose labels the move completes', () => {
    for (const move of RETINA_FAMILY_MOVES) {
      const labels = [...METRICS[move.from].labels, ...Object.keys(move.labels)].sort();
      expect(labels).toEqual([...METRICS[move.to].labels].sort());
    }
    expect(Object.keys(RETINA_FAMILY_TYPES).every((key) => METRIC_KEYS.includes(key as MetricKey))).toBe(true);
  });

  it('renames flags and keeps every other label and value of a series', () => {
    const flags: SampleView[] = [
      { labels: { [LABEL.flag]: 'RST', [LABEL.direction]: 'ingress' }, value: 3 },
      { labels: { [LABEL.flag]: 'SYNACK', [LABEL.direction]: 'egress' }, value: 5 },
    ];
    const families = toRetinaFamilies(new Map([['tcpFlagCounters', flags]]));
    expect(families.get('tcpFlagCounters')).toEqual([
      { labels: { [LABEL.flag]: 'rst', [LABEL.direction]: 'ingress' }, value: 3 },
      { labels: { [LABEL.flag]: 'synack', [LABEL.direction]: 'egress' }, value: 5 },
    ]);
    // The input is not changed (the default mode's samples are shared).
    expect(flags[0]!.labels[LABEL.flag]).toBe('RST');
  });
});

describe('--compat retina configuration', () => {
  it("sets Retina's prefix, from the flag or KAPPIE_COMPAT", () => {
    expect(resolveConfig({ compat: 'retina' }, {}).metricPrefix).toBe(RETINA_METRIC_PREFIX);
    expect(resolveConfig({}, { KAPPIE_COMPAT: 'retina' })).toMatchObject({
      compat: 'retina',
      metricPrefix: 'networkobservability_',
    });
    expect(resolveConfig({}, {}).compat).toBe('none');
    expect(resolveConfig({ compat: 'retina', metricPrefix: RETINA_METRIC_PREFIX }, {}).metricPrefix).toBe(
      RETINA_METRIC_PREFIX,
    );
  });

  it('refuses another prefix beside it, and unknown modes', () => {
    expect(() => resolveConfig({ compat: 'retina', metricPrefix: 'kappie_' }, {})).toThrow(ConfigError);
    expect(() => resolveConfig({}, { KAPPIE_COMPAT: 'retina', KAPPIE_METRIC_PREFIX: 'x_' })).toThrow(
      /KAPPIE_METRIC_PREFIX: "x_" contradicts --compat retina/,
    );
    expect(() => resolveConfig({ compat: 'hubble' }, {})).toThrow(/--compat: "hubble" is not one of: none, retina/);
  });
});

describe('exposition of a recorded node', () => {
  let ours: string;
  let retina: string;
  beforeAll(async () => {
    ours = await scrapeRecordedNode('none');
    retina = await scrapeRecordedNode('retina');
  });

  it("writes the statistic names Retina's TCP panels query, with the values of the kernel counters they map from", () => {
    const tcp = (text: string, prefix: string, name: string) => statistic(text, `${prefix}tcp_connection_stats`, name);
    expect(tcp(retina, 'networkobservability_', 'tcptimeouts')).toBe(tcp(ours, 'kappie_', 'TCPTimeouts'));
    expect(tcp(retina, 'networkobservability_', 'resetcount')).toBe(tcp(ours, 'kappie_', 'EstabResets'));
    expect(tcp(retina, 'networkobservability_', 'tcptsreorder')).toBe(tcp(ours, 'kappie_', 'TCPTSReorder'));
    expect(tcp(retina, 'networkobservability_', 'TCPTimeouts')).toBeUndefined();
    for (const name of ['tcptimeouts', 'resetcount', 'tcptsreorder']) {
      expect(tcp(retina, 'networkobservability_', name)).toEqual(expect.any(Number));
    }
  });

  it('writes UDP sockets in use as udp_connection_stats{statistic_name="active"}, a gauge family', () => {
    const active = statistic(retina, 'networkobservability_udp_connection_stats', 'active');
    const sockets = [...samples(ours)].find(([series]) => series.startsWith('kappie_udp_active_sockets{'))?.[1];
    expect(active).toBe(sockets);
    expect(retina).not.toContain('udp_active_sockets');
    expect(retina).toContain('# TYPE networkobservability_udp_connection_stats gauge');
    expect(ours).toContain('# TYPE kappie_udp_connection_stats counter');
  });

  it('changes nothing else: the same series count, the same values, every name under the Retina prefix', () => {
    const a = samples(ours);
    const b = samples(retina);
    expect(b.size).toBe(a.size);
    expect([...b.values()].sort()).toEqual([...a.values()].sort());
    expect([...b.keys()].every((series) => series.startsWith(RETINA_METRIC_PREFIX))).toBe(true);
    const renamed = (series: string) => series.replace(/^kappie_/, RETINA_METRIC_PREFIX);
    // Every series but the mapped ones is the same series under the other prefix.
    const unchanged = [...a.keys()].filter(
      (series) => !/udp_active_sockets|TCPTimeouts|EstabResets|TCPTSReorder/.test(series),
    );
    for (const series of unchanged) expect(b.get(renamed(series))).toBe(a.get(series));
  });
});
