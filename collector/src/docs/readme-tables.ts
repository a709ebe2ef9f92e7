/**
 * The README's generated parts: the metric table (from the catalog), the configuration reference (from the OPTIONS
 * table) and the drop reason classes (from drop-reason-classes.ts). `npm run docs` rewrites them between their
 * markers; a test fails when the README is stale.
 */
import { LABEL, METRICS, METRIC_KEYS, DEFAULT_METRIC_PREFIX, metricName, type MetricDefinition } from '../catalog';
import { OPTIONS } from '../config';
import {
  DROP_CLASSES,
  DROP_CLASS_NAMES,
  DROP_REASON_CLASSES,
  UNKNOWN_REASON_CLASS,
  reasonsOfClasses,
  type DropReasonOrigin,
} from '../drop-reason-classes';
import { DEFAULT_STATISTICS, GAUGE_FIELDS } from '../sources/linux/snmp-statistics';
import { IP_FIELDS_LEFT_OUT, IP_STATISTIC_FIELDS } from '../sources/windows/ip-statistics';
import { TCP_STATISTIC_NAMES, TCP_STATS_LAYOUTS } from '../sources/windows/tcp-statistics';
import { UDP_FIELDS_LEFT_OUT, UDP_STATISTIC_NAMES, UDP_STATS_LAYOUTS } from '../sources/windows/udp-statistics';
import { retinaMappingTable, retinaPanelsTable } from './retina-compat-tables';

export interface GeneratedBlock {
  readonly marker: string;
  readonly content: string;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function metricsTable(): string {
  const always = `${LABEL.nodeName}, ${LABEL.cluster} (when configured)`;
  const rows = METRIC_KEYS.map((key) => {
    const m: MetricDefinition = METRICS[key];
    const labels = m.labels.length > 0 ? m.labels.join(', ') : '—';
    const where = (['linux', 'windows'] as const)
      .map((platform) => (m.platforms.includes(platform) ? `**${platform}**: ${m.origin[platform] ?? ''}` : undefined))
      .filter((text) => text !== undefined)
      .join('<br>');
    return `| \`${metricName(m, DEFAULT_METRIC_PREFIX)}\` | ${m.type} | ${labels} | ${cell(m.help)} | ${cell(where)} |`;
  });
  return [
    `Every series also carries ${always}.`,
    '',
    '| metric | type | labels | meaning | where it comes from |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

export function configurationTable(): string {
  const rows = OPTIONS.map((spec) => {
    const flag = spec.valueName ? `--${spec.flag} ${spec.valueName}` : `--${spec.flag}`;
    const others = Object.entries(spec.commandDescriptions ?? {}).map(([command, text]) => `${command}: ${text}`);
    const meaning = others.length === 0 ? spec.description : [`serve: ${spec.description}`, ...others].join('; ');
    return `| \`${flag}\` | \`${spec.env}\` | ${cell(spec.defaultText)} | ${spec.commands.join(', ')} | ${cell(meaning)} |`;
  });
  return [
    'Flags win over environment variables. An invalid value prints one line naming the flag (or variable) and what it',
    'accepts, and exits with code 2. Each command takes only the options it uses (`kappie <command> --help`); the',
    'others keep their defaults, so `kappie snapshot` in a serving container ignores the serve-only variables it',
    'inherits.',
    '',
    '| flag | environment | default | commands | meaning |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The default statistic_name set of each *_connection_stats family (--statistics default), and the gauges left out. */
export function protocolStatisticsTable(): string {
  const families = [
    ['tcp', METRICS.tcpConnectionStats],
    ['ip', METRICS.ipConnectionStats],
    ['udp', METRICS.udpConnectionStats],
  ] as const;
  const rows = families.map(
    ([family, m]) =>
      `| \`${metricName(m, DEFAULT_METRIC_PREFIX)}\` | ${cell(m.origin.linux ?? '')} | ${DEFAULT_STATISTICS[family]
        .map((name) => `\`${name}\``)
        .join(', ')} |`,
  );
  const gauges = Object.entries(GAUGE_FIELDS)
    .map(([line, fields]) => `${line} ${fields.join(', ')}`)
    .join('; ');
  return [
    '| metric | files | `statistic_name` in the default set |',
    '|---|---|---|',
    ...rows,
    '',
    `Never exported (values, not counts): ${gauges}.`,
  ].join('\n');
}

/**
 * The Windows IP Helper fields behind each *_connection_stats statistic_name (the Windows sources' field tables), and
 * the fields left out with the reason.
 */
export function windowsProtocolStatisticsTable(): string {
  const code = (text: string) => `\`${text}\``;
  /** `dwX`, and `dw64X` where the 64-bit struct has a DWORD64 for it. */
  const structField = (name: string, bits: 32 | 64) =>
    code(`dw${name}`) + (bits === 64 ? ` (${code(`dw64${name}`)})` : '');
  const rows = [
    ...TCP_STATISTIC_NAMES.map(
      (name) =>
        `| tcp | GetTcpStatisticsEx2 / GetTcpStatisticsEx | ${structField(name, TCP_STATS_LAYOUTS.MIB_TCPSTATS2.fields[name].bits)} | ${code(name)} | summed into ${code(name)} |`,
    ),
    ...IP_STATISTIC_FIELDS.map(
      ({ field, ipv4, ipv6 }) => `| ip | GetIpStatisticsEx | ${code(field)} | ${code(ipv4)} | ${code(ipv6)} |`,
    ),
    ...(['In', 'Out'] as const).flatMap((direction) => [
      `| ip | GetIcmpStatisticsEx | icmp${direction}Stats ${code('dwMsgs')} | ${code(`Icmp${direction}Msgs`)} | ${code(`Icmp6${direction}Msgs`)} |`,
      `| ip | GetIcmpStatisticsEx | icmp${direction}Stats ${code('dwErrors')} | ${code(`Icmp${direction}Errors`)} | ${code(`Icmp6${direction}Errors`)} |`,
      `| ip | GetIcmpStatisticsEx | icmp${direction}Stats ${code('rgdwTypeCount[T]')}, T with a count | ${code(`IcmpMsg${direction}TypeT`)} | ${code(`Icmp6${direction}TypeT`)} |`,
    ]),
    ...UDP_STATISTIC_NAMES.map(
      (name) =>
        `| udp | GetUdpStatisticsEx2 / GetUdpStatisticsEx | ${structField(name, UDP_STATS_LAYOUTS.MIB_UDPSTATS2.fields[name].bits)} | ${code(name)} | ${code(`Udp6${name}`)} |`,
    ),
  ];
  const leftOut = Object.entries({ ...IP_FIELDS_LEFT_OUT, ...UDP_FIELDS_LEFT_OUT })
    .map(([field, why]) => `${code(field)}: ${why}`)
    .join('; ');
  return [
    '| family | call | field | `statistic_name` (IPv4) | `statistic_name` (IPv6) |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `Left out (Linux has no counter meaning the same): ${cell(leftOut)}.`,
  ].join('\n');
}

const ORIGIN_TEXT: Record<DropReasonOrigin, string> = {
  kernel: 'kernel',
  'kernel-older': 'older kernels',
  counters: 'drop counters',
  untraced: 'counter, tracefs mode',
  derived: '5.15 derived',
  collector: 'collector',
  hyperv: 'Hyper-V',
  vfp: 'VFP',
};

/** The drop reason classes, then every reason (in a collapsed block: there are over 200). */
export function dropReasonClassesTable(): string {
  const classes = DROP_CLASS_NAMES.map((name) => {
    const info = DROP_CLASSES[name];
    const count = reasonsOfClasses([name]).length;
    return `| \`${name}\` | ${info.title} | ${info.lost ? 'yes' : 'no'} | ${count} | ${cell(info.meaning)} |`;
  });
  const reasons = DROP_REASON_CLASSES.map(
    (entry) => `| \`${entry.reason}\` | \`${entry.class}\` | ${ORIGIN_TEXT[entry.origin]} | ${cell(entry.meaning)} |`,
  );
  return [
    '| class | title | packet loss | reasons | meaning |',
    '|---|---|---|---|---|',
    ...classes,
    '',
    `A reason not listed below is \`${UNKNOWN_REASON_CLASS}\`.`,
    '',
    '<details>',
    `<summary>Every reason (${DROP_REASON_CLASSES.length}) with its class and meaning</summary>`,
    '',
    '| reason | class | from | meaning |',
    '|---|---|---|---|',
    ...reasons,
    '',
    '</details>',
  ].join('\n');
}

export function generatedBlocks(): GeneratedBlock[] {
  return [
    { marker: 'metrics', content: metricsTable() },
    { marker: 'configuration', content: configurationTable() },
    { marker: 'protocol-statistics', content: protocolStatisticsTable() },
    { marker: 'windows-protocol-statistics', content: windowsProtocolStatisticsTable() },
    { marker: 'drop-reason-classes', content: dropReasonClassesTable() },
    { marker: 'retina-compat-mapping', content: retinaMappingTable() },
    { marker: 'retina-compat-panels', content: retinaPanelsTable() },
  ];
}

const begin = (marker: string) => `<!-- BEGIN GENERATED ${marker}: npm run docs -->`;
const end = (marker: string) => `<!-- END GENERATED ${marker} -->`;

/** The README with every generated block replaced by its current content; throws when a marker is missing. */
export function renderReadme(readme: string): string {
  let result = readme;
  for (const block of generatedBlocks()) {
    const start = result.indexOf(begin(block.marker));
    const stop = result.indexOf(end(block.marker));
    if (start < 0 || stop < start)
      throw new Error(`README.md lacks the markers of the generated ${block.marker} block`);
    result = `${result.slice(0, start)}${begin(block.marker)}\n${block.content}\n${result.slice(stop)}`;
  }
  return result;
}
