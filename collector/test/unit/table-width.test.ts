/**
 * Every table `kappie snapshot` and `kappie sources` print fits the width it is given: rendered at 80 and 100 columns
 * with cells as long as a real node's (long reasons, metric lists, descriptions, 10-digit interface counters), no line
 * is wider, and no cell text is lost. The built CLI in a pseudo-terminal of 80 and 100 columns is checked too.
 */
import { spawnSync } from 'node:child_process';
import { METRICS, TCP_FLAGS, type MetricKey } from '../../src/catalog';
import type { Gathering, SourceStatus } from '../../src/gatherer';
import { installedObjects } from '../../src/installed-state';
import { resolveConfig } from '../../src/config';
import { renderSnapshot } from '../../src/snapshot-table';
import { createSources } from '../../src/sources';
import { renderSources } from '../../src/sources-table';
import { table } from '../../src/text-table';
import { COLLECTOR_CLI } from '../helpers/netns';

const WIDTHS = [80, 100] as const;

const LONG_REASON =
  'read once here: the kernel drop counters (totals since boot, coarser reasons), as kappie snapshot --duration 0 ' +
  'reads them; kappie serve and kappie snapshot --duration N count tracefs events by kernel reason';

function status(name: string, up: boolean, reason?: string): SourceStatus {
  return { name, source: name, description: '', up, reason, durationSeconds: 0.0123, lostEvents: 0 };
}

const INTERFACE_STATISTICS = ['rx_bytes', 'rx_packets', 'rx_errors', 'rx_dropped'];
const gathering: Gathering = {
  at: Date.parse('2026-01-02T03:04:05.000Z'),
  samples: {
    dropCount: [
      { labels: { reason: 'TCP_LISTEN_OVERFLOW', direction: 'ingress' }, value: 1234567 },
      { labels: { reason: 'NO_SOCKET', direction: 'ingress' }, value: 11663 },
    ],
    tcpState: [{ labels: { state: 'ESTABLISHED' }, value: 3 }],
    tcpConnectionRemote: [{ labels: { address: '2001:db8:1234:5678:9abc:def0:1234:5678', port: '443' }, value: 5 }],
    tcpFlagCounters: TCP_FLAGS.map((flag) => ({ labels: { flag, direction: 'ingress' }, value: 123456789012 })),
    interfaceStats: ['eth0', 'a-very-long-pod-interface0'].flatMap((name) =>
      [...INTERFACE_STATISTICS, ...INTERFACE_STATISTICS.map((s) => s.replace('rx', 'tx'))].map((statistic) => ({
        labels: { interface_name: name, statistic_name: statistic },
        value: 8724590249123,
      })),
    ),
    tcpConnectionStats: [{ labels: { statistic_name: 'TCPReqQFullDoCookies' }, value: 1073994 }],
    udpActiveSockets: [{ labels: {}, value: 7 }],
  },
  sources: [status('drop_counters', true, LONG_REASON), status('tcp_flags', false, LONG_REASON), status('snmp', true)],
};

function wideLines(text: string, width: number): string[] {
  return text.split('\n').filter((line) => line.length > width);
}

/** The words of `text`, to check that fitting lost none. */
function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '' && !/^-+$/.test(word));
}

describe('tables fit the width they are given', () => {
  it.each(WIDTHS)('kappie snapshot at %i columns', (width) => {
    const metricSources = new Map<MetricKey, string[]>([['dropCount', ['drops']]]);
    const origin = {
      kind: 'local',
      lookedFor: undefined,
      drops: { countedBy: 'kernel_counters', why: '--duration 0' },
    } as const;
    const text = renderSnapshot({ gathering, origin, metricSources, width });
    expect(wideLines(text, width)).toEqual([]);
    expect(text).toContain('8724590249123');
    expect(text).toContain('a-very-long-pod-interface0');
    expect(text).toContain('2001:db8:1234:5678:9abc:def0:1234:5678');
  });

  it.each(WIDTHS)('kappie sources at %i columns (every source of both platforms, the kernel objects)', (width) => {
    const config = resolveConfig({}, {}, 'sources');
    const text = renderSources({
      sources: createSources(),
      platform: 'linux',
      gathering: { ...gathering, sources: createSources().map((s) => status(s.name, false, LONG_REASON)) },
      installed: installedObjects(config),
      width,
    });
    expect(wideLines(text, width)).toEqual([]);
    for (const source of createSources()) {
      for (const key of source.metrics) expect(text).toContain(METRICS[key].name);
    }
  });

  it.each(WIDTHS)('a table of unbreakable cells is split into blocks that repeat the key column (%i)', (width) => {
    const headers = ['interface', ...Array.from({ length: 10 }, (_, i) => `statistic_${i}`)];
    const rows = [['eth0', ...Array.from({ length: 10 }, () => '123456789012')]];
    const text = table(headers, rows, width);
    expect(wideLines(text, width)).toEqual([]);
    expect(words(text).sort()).toEqual(
      [...headers, ...rows[0]!, ...Array.from({ length: text.split('\n\n').length - 1 }, () => ['interface', 'eth0'])]
        .flat()
        .sort(),
    );
  });

  it('text columns wrap at spaces and keep every word; a table that fits is unchanged', () => {
    const rows = [['snmp', 'tcp_connection_stats, ip_connection_stats, udp_connection_stats', LONG_REASON]];
    const narrow = table(['source', 'metrics', 'reads'], rows, 80);
    expect(wideLines(narrow, 80)).toEqual([]);
    expect(words(narrow)).toEqual(expect.arrayContaining(words(rows[0]!.join(' '))));
    expect(words(narrow)).toHaveLength(3 + words(rows[0]!.join(' ')).length);
    expect(table(['a', 'b'], [['x', 'y z']], 80)).toBe('a  b\n-  ---\nx  y z');
  });
});

/** The built CLI's stdout in a pseudo-terminal `columns` wide (util-linux script). */
function inTerminal(columns: number, ...args: string[]): string {
  const command = [`stty cols ${columns}`, [process.execPath, COLLECTOR_CLI, ...args].join(' ')].join('; ');
  const result = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
  expect(result.status).toBe(0);
  return result.stdout.replace(/\r/g, '');
}

describe('the CLI uses the terminal width', () => {
  it.each(WIDTHS)('kappie sources and kappie snapshot --from none --duration 0 in a %i-column terminal', (width) => {
    for (const args of [['sources'], ['snapshot', '--from', 'none', '--duration', '0']]) {
      const text = inTerminal(width, ...args);
      expect(text).toContain('source');
      expect(wideLines(text, width)).toEqual([]);
    }
  });
});
