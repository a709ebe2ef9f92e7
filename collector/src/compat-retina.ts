/**
 * `--compat retina`: the names Retina's published node dashboard queries, as a table beside the catalog, applied in
 * one place (the exposition) to what the sources gathered. The sources, and the default mode, never see it.
 *
 * The dashboard is "Kubernetes / Networking / Clusters" (grafana.com 18814, the one AKS's setup guides import),
 * kept in Retina's repository as deploy/grafana-dashboards/clusters.json (retitled "Kubernetes / Networking / Retina /
 * Clusters" in Retina PR #1285). Facts below were read at Retina commit 532c5aa2 (2026-08-21). Where Retina's agent
 * emits a spelling different from what its dashboard queries (Prometheus matches label values case-sensitively, so
 * the agent's own series leave those panels empty), this table follows the dashboard and says what the agent emits.
 *
 * Pure data and pure functions (on SampleView, the exposition's sample shape): the README's table is generated from it.
 */
import {
  LABEL,
  RETINA_METRIC_PREFIX,
  TCP_FLAGS,
  type LabelName,
  type MetricKey,
  type MetricType,
  type TcpFlag,
} from './catalog';
import type { SampleView } from './source';

/** The Retina dashboard file every `dashboard` fact below refers to. */
export const RETINA_DASHBOARD = 'microsoft/retina deploy/grafana-dashboards/clusters.json';
/** The Retina commit the facts were read at. */
export const RETINA_COMMIT = '532c5aa2';
/** Retina's metric prefix (pkg/exporter/prometheusexporter.go, RetinaNamespace). */
export const RETINA_PREFIX = RETINA_METRIC_PREFIX;

/** One label value written differently in compat mode. */
export interface RetinaLabelValue {
  readonly metric: MetricKey;
  readonly label: LabelName;
  /** Our value, as the default mode writes it. */
  readonly ours: string;
  /** The value Retina's dashboard queries, written instead in compat mode. */
  readonly retina: string;
  /** The panel of the dashboard that queries it. */
  readonly panel: string;
  /** What Retina's agent itself emits for it, with the repository path that says so. */
  readonly agent: string;
  /** Why our value is the one that means what the panel shows. */
  readonly meaning: string;
}

/** A family whose series are written into another family in compat mode (with extra labels). */
export interface RetinaFamilyMove {
  readonly from: MetricKey;
  readonly to: MetricKey;
  /** Labels given to each moved series (the `to` family's labels the `from` family lacks). */
  readonly labels: Readonly<Partial<Record<LabelName, string>>>;
  readonly panel: string;
  readonly agent: string;
  readonly meaning: string;
}

const FLAG_AGENT =
  'tcp_flag_gauges (pkg/utils/metric_names.go TCPFlagGauge, not the tcp_flag_counters the dashboard queries) with ' +
  'upper-case flags SYN, SYNACK, FIN, RST (pkg/utils/attr_utils.go), on Windows only ' +
  '(pkg/plugin/hnsstats/hnsstats_windows.go, from VFP port counters)';

/** The panel each flag is queried by; the other flags follow the same lower-case spelling. */
const FLAG_PANELS: Partial<Record<TcpFlag, string>> = {
  RST: 'Windows TCP RST Packets',
  SYNACK: 'Windows TCP SYN-ACK Packets',
};

/** What our flags count where it is not simply "that bit set". */
const FLAG_MEANING: Partial<Record<TcpFlag, string>> = {
  SYN: 'with SYN set and ACK clear',
  SYNACK: 'with SYN and ACK set',
  ACK: 'with ACK set and SYN clear',
};

export const RETINA_LABEL_VALUES: readonly RetinaLabelValue[] = [
  {
    metric: 'tcpConnectionStats',
    label: LABEL.statisticName,
    ours: 'TCPTimeouts',
    retina: 'tcptimeouts',
    panel: 'TCP Connection Timeouts',
    agent:
      'TCPTimeouts, from /proc/net/netstat TcpExt (netstatCuratedKeys in pkg/plugin/linuxutil/types_linux.go), Linux only',
    meaning: 'TcpExt TCPTimeouts: retransmission timer expirations (RTO), the kernel counter Retina reads itself',
  },
  {
    metric: 'tcpConnectionStats',
    label: LABEL.statisticName,
    ours: 'EstabResets',
    retina: 'resetcount',
    panel: 'TCP Connection Resets',
    agent:
      'ResetCount (pkg/utils/attr_utils.go) on Windows only, the VFP port counter of connections reset, inbound ' +
      'direction (pkg/plugin/hnsstats/hnsstats_windows.go); nothing on Linux',
    meaning:
      'Tcp EstabResets (RFC 4022 tcpEstabResets): connections reset from ESTABLISHED or CLOSE-WAIT, either side ' +
      'sending the RST; /proc/net/snmp on Linux, GetTcpStatisticsEx2 on Windows. The TcpExt TCPAbortOn* counters ' +
      'count only the resets this node sent',
  },
  {
    metric: 'tcpConnectionStats',
    label: LABEL.statisticName,
    ours: 'TCPTSReorder',
    retina: 'tcptsreorder',
    panel: 'TCP Connection Reorders',
    agent:
      'nothing: TCPTSReorder is listed in docs/03-Metrics/modes/basic.md but left out by netstatCuratedKeys ' +
      '(pkg/plugin/linuxutil/types_linux.go, since Retina PR #1004)',
    meaning: 'TcpExt TCPTSReorder: reordering detected from TCP timestamps, Linux only',
  },
  ...TCP_FLAGS.map((flag): RetinaLabelValue => ({
    metric: 'tcpFlagCounters',
    label: LABEL.flag,
    ours: flag,
    retina: flag.toLowerCase(),
    panel: FLAG_PANELS[flag] ?? 'Windows TCP Packets (sums every flag; queries none by name)',
    agent: FLAG_AGENT,
    meaning: `TCP segments ${FLAG_MEANING[flag] ?? `with ${flag} set`}, per direction (tcp-flag-bits.ts)`,
  })),
];

export const RETINA_FAMILY_MOVES: readonly RetinaFamilyMove[] = [
  {
    from: 'udpActiveSockets',
    to: 'udpConnectionStats',
    labels: { [LABEL.statisticName]: 'active' },
    panel: 'UDP Connections',
    agent:
      'udp_connection_stats{statistic_name="ACTIVE"}, the number of /proc/net/udp entries ' +
      '(pkg/plugin/linuxutil/netstat_stats_linux.go, utils.Active in pkg/utils/attr_utils.go); udp_active_sockets ' +
      'was folded into it in Retina PR #693',
    meaning: 'UDP sockets in use, IPv4 and IPv6 (Linux /proc/net/sockstat and sockstat6, Windows GetExtendedUdpTable)',
  },
];

/**
 * Family types that change in compat mode: udp_connection_stats then holds a count of sockets beside its counters,
 * so it is declared a gauge, as Retina declares every family (all its data-plane metrics are gauges).
 */
export const RETINA_FAMILY_TYPES: Readonly<Partial<Record<MetricKey, MetricType>>> = {
  udpConnectionStats: 'gauge',
};

type Families = ReadonlyMap<MetricKey, readonly SampleView[]>;

/** `${metric} ${label} ${ours}` -> retina, for the lookup at each scrape. */
function valueIndex(): Map<string, string> {
  return new Map(RETINA_LABEL_VALUES.map((entry) => [`${entry.metric} ${entry.label} ${entry.ours}`, entry.retina]));
}

/**
 * The families of one scrape as compat mode writes them: label values of RETINA_LABEL_VALUES replaced, families of
 * RETINA_FAMILY_MOVES written into their target family (after its own series), everything else as it was. Values
 * and series counts are unchanged: every series of the input is exactly one series of the output.
 */
export function toRetinaFamilies(families: Families): Map<MetricKey, SampleView[]> {
  const index = valueIndex();
  const result = new Map<MetricKey, SampleView[]>();
  for (const [key, samples] of families) {
    result.set(
      key,
      samples.map((sample) => {
        const labels: Record<string, string> = {};
        for (const [label, value] of Object.entries(sample.labels)) {
          labels[label] = index.get(`${key} ${label} ${value}`) ?? value;
        }
        return { ...sample, labels };
      }),
    );
  }
  for (const move of RETINA_FAMILY_MOVES) {
    const moved = (result.get(move.from) ?? []).map((sample) => ({
      ...sample,
      labels: { ...sample.labels, ...move.labels } as Record<string, string>,
    }));
    result.set(move.from, []);
    result.set(move.to, [...(result.get(move.to) ?? []), ...moved]);
  }
  return result;
}
