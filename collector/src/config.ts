/**
 * The collector's configuration: one table of options from which the CLI flags, the environment variables, --help and
 * the README's configuration reference are all made, so they cannot disagree.
 *
 * Parsing is pure: `resolveConfig` takes flag values and an environment and returns a typed config or throws a
 * ConfigError naming the option and what it accepts.
 */
import * as net from 'node:net';
import * as os from 'node:os';
import { DEFAULT_METRIC_PREFIX, METRIC_PREFIX_PATTERN, RETINA_METRIC_PREFIX } from './catalog';
import { ConfigError } from './errors';
import { DEFAULT_NEW_SERIES_HOLD_SECONDS } from './series-birth';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type StatisticsSet = 'default' | 'all';
/** Where the TCP socket table is read from: netlink SOCK_DIAG, the /proc/net/tcp{,6} files, or the best available. */
export type TcpSocketReader = 'auto' | 'netlink' | 'procfs';
/**
 * What the drop source counts with: skb:kfree_skb events in tracefs (`tracefs`: the kernel's hist triggers where it
 * has them, else the stream; `hist` or `stream`: that way only), the kernel's drop counters, or the best available.
 */
export type DropReader = 'auto' | 'tracefs' | 'hist' | 'stream' | 'counters';
/** The readers that count tracefs events only: the source is down (never the counters) while they cannot count. */
export const EVENTS_ONLY_READERS: readonly DropReader[] = ['tracefs', 'hist', 'stream'];
/** How stream mode reads kfree_skb events: the per-CPU binary trace_pipe_raw, the text trace_pipe, or raw when it can. */
export type DropStreamFormat = 'auto' | 'raw' | 'text';
/** Whose names the exposition writes: ours, or the metric prefix and label values Retina's dashboards query. */
export type CompatMode = 'none' | 'retina';
/**
 * The commands that take collector options: `serve` takes every one, `snapshot` those that shape a gathering,
 * `sources` those that name what the collector installs in the kernel.
 */
export type CollectorCommand = 'serve' | 'snapshot' | 'sources';

export interface ListenAddress {
  /** Empty string: every address. */
  readonly host: string;
  readonly port: number;
}

export interface CollectorConfig {
  readonly listen: ListenAddress;
  readonly nodeName: string;
  readonly cluster: string | undefined;
  readonly procPath: string;
  readonly sysPath: string;
  readonly tracefsPath: string;
  /** Name of our tracefs instance (a directory under <tracefs>/instances). */
  readonly tracefsInstance: string;
  readonly dropReader: DropReader;
  /** Stream mode's reader of the events (the kernel without hist triggers): binary pages or text lines. */
  readonly dropStreamFormat: DropStreamFormat;
  /** nftables table (family inet) of the TCP flag counters. */
  readonly nftTable: string;
  readonly metricPrefix: string;
  /** `retina`: Retina's prefix and label values at exposition (compat-retina.ts); `none`: Kappie's own. */
  readonly compat: CompatMode;
  /** Interfaces reported at all (globs); empty: all. */
  readonly interfaceInclude: readonly string[];
  /** Interfaces never reported (globs). */
  readonly interfaceExclude: readonly string[];
  /**
   * Pod-side interfaces (globs), summed into one interface_name unless perPodInterfaceStats. Empty (the default):
   * Linux tells them by the kernel (sources/linux/link-roles.ts), Windows by DEFAULT_WINDOWS_POD_INTERFACES.
   */
  readonly podInterfaces: readonly string[];
  readonly perPodInterfaceStats: boolean;
  /** Interfaces whose traffic is kappie_forward_*; empty: those holding the default routes. */
  readonly uplinkInterfaces: readonly string[];
  /** Interfaces whose driver statistics (ethtool -S) are read; empty: the uplinks and the devices below them. */
  readonly ethtoolInterfaces: readonly string[];
  /** Driver statistics exported per interface at most; 0 reads none. */
  readonly ethtoolMaxStatistics: number;
  readonly tcpRemoteTopK: number;
  /** Above this many TCP sockets the per-socket scan (tcp_connection_remote) is skipped. */
  readonly tcpScanMaxSockets: number;
  readonly tcpSocketReader: TcpSocketReader;
  readonly statistics: StatisticsSet;
  /** Sources to run; empty: every source of this platform. */
  readonly sources: readonly string[];
  readonly disabledSources: readonly string[];
  readonly logLevel: LogLevel;
  /** A scrape this soon (seconds) after the last gathering finished is answered from it; 0 gathers every scrape. */
  readonly scrapeReuseSeconds: number;
  /** Seconds a counter series first exported above 0 after the first gathering is exported at 0 (series-birth.ts). */
  readonly newSeriesHoldSeconds: number;
  /** Connections served at once (the oldest idle one is closed to make room for a new one). */
  readonly maxConnections: number;
  /** Seconds a connection has, from accept, to deliver a complete request head (TLS handshake included). */
  readonly readHeaderTimeoutSeconds: number;
  /** The web configuration file (TLS, basic auth, headers), or undefined for plain HTTP without authentication. */
  readonly webConfigFile: string | undefined;
}

type Raw = string | boolean | undefined;

export interface OptionSpec<K extends keyof CollectorConfig = keyof CollectorConfig> {
  readonly key: K;
  /** Long flag without dashes. */
  readonly flag: string;
  /** Placeholder shown in --help; absent for boolean switches. */
  readonly valueName?: string;
  readonly env: string;
  /** What the option does, as `kappie serve` uses it (and every command not in `commandDescriptions`). */
  readonly description: string;
  /**
   * What the option does under a command that uses it differently from serve (snapshot and sources only read what
   * serve installs): that command's --help and the README say this instead. See descriptionFor.
   */
  readonly commandDescriptions?: Partial<Record<CollectorCommand, string>>;
  /** Default as shown in --help and the README. */
  readonly defaultText: string;
  /** The commands that take this option; the others use its default and do not list it in --help. */
  readonly commands: readonly CollectorCommand[];
  readonly parse: (raw: Raw, option: string) => CollectorConfig[K];
}

function option<K extends keyof CollectorConfig>(spec: OptionSpec<K>): OptionSpec<K> {
  return spec;
}

/** What `spec` does under `command`: its command description when it has one, else its description. */
export function descriptionFor(spec: OptionSpec, command: CollectorCommand): string {
  return spec.commandDescriptions?.[command] ?? spec.description;
}

/**
 * HOST:PORT, the port always required: `:10093` (every address), `0.0.0.0:10093`, `[::1]:10093`, and an IPv6 address
 * without brackets (`fd00::4:10093`: the port is after the last colon), which is what `$(HOST_IP):10093` gives on an
 * IPv6 node when a manifest builds the address from the downward API's status.hostIP.
 */
export function parseListen(raw: string, optionName: string): ListenAddress {
  const text = raw.trim();
  const bare = /^([0-9a-fA-F:.]*:[0-9a-fA-F:.]*):(\d+)$/.exec(text);
  const match = bare && net.isIPv6(bare[1]!) ? bare : /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*):(\d+)$/.exec(text);
  if (!match) {
    throw new ConfigError(optionName, `"${raw}" is not HOST:PORT (examples: :10093, 0.0.0.0:10093, [::1]:10093)`);
  }
  const port = Number(match[2]);
  if (port > 65535) {
    throw new ConfigError(
      optionName,
      `"${raw}": port ${match[2]} is out of range (a TCP port is 1-65535, or 0 to pick a free one)`,
    );
  }
  const host = match[1]!.replace(/^\[|\]$/g, '');
  return { host, port };
}

function parseList(raw: Raw): string[] {
  if (typeof raw !== 'string') return [];
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/**
 * Interface name patterns. Linux takes any bytes for a name but "/", ":" and whitespace (dev_valid_name), Windows
 * adapter names hold spaces and parentheses ("vEthernet (Ethernet 2)"), and both may be non-ASCII: a pattern may hold
 * any printable character but "/" (no Linux name holds one); control characters are refused (a pasted newline or tab
 * is a mistake).
 */
function parseGlobs(raw: Raw, optionName: string): string[] {
  const globs = parseList(raw);
  for (const glob of globs) {
    if (/[\p{Cc}/]/u.test(glob)) {
      throw new ConfigError(
        optionName,
        `${JSON.stringify(glob)} is not an interface name pattern (any characters and * ?, but no "/" or control character)`,
      );
    }
  }
  return globs;
}

function parseBoolean(raw: Raw, optionName: string): boolean {
  if (raw === undefined || raw === true || raw === false) return raw === true;
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(value)) return false;
  throw new ConfigError(optionName, `"${raw}" is not a boolean (true or false)`);
}

function integerParser(min: number, max: number) {
  return (raw: Raw, optionName: string): number => {
    const text = typeof raw === 'string' ? raw.trim() : '';
    const value = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(value >= min && value <= max)) {
      throw new ConfigError(optionName, `"${String(raw)}" is not a whole number from ${min} to ${max}`);
    }
    return value;
  };
}

/** A parser of seconds from `min` to `max` (fractions allowed) for option `optionName`; a ConfigError otherwise. */
export function secondsParser(min: number, max: number) {
  return (raw: Raw, optionName: string): number => {
    const text = typeof raw === 'string' ? raw.trim() : '';
    const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (!(value >= min && value <= max)) {
      throw new ConfigError(optionName, `"${String(raw)}" is not a number of seconds from ${min} to ${max}`);
    }
    return value;
  };
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: Raw, optionName: string): T => {
    const value = typeof raw === 'string' ? raw.trim() : '';
    if (!(values as readonly string[]).includes(value)) {
      throw new ConfigError(optionName, `"${String(raw)}" is not one of: ${values.join(', ')}`);
    }
    return value as T;
  };
}

function nonEmptyPath(raw: Raw, optionName: string): string {
  const value = typeof raw === 'string' ? raw.trim() : '';
  if (value === '') throw new ConfigError(optionName, 'needs a directory path');
  return value;
}

/**
 * Pod-side interface names of the CNIs AKS and common clusters use (Azure CNI, kubenet, Cilium, Calico, Flannel...):
 * what Linux goes by when the rtnetlink link dump cannot be taken (sources/linux/link-roles.ts).
 */
export const DEFAULT_POD_INTERFACES = ['veth*', 'azv*', 'lxc*', 'cali*'];
/**
 * Pod vNICs on Windows nodes as GetIfTable2 names them: "vEthernet (<endpoint GUID>)". The host's own vEthernet
 * adapters ("vEthernet (Ethernet)", "vEthernet (nat)") and the host vNIC on the pod network ("vEthernet (Container NIC
 * <hex>)", "Container NIC <hex>") are not pods and do not match.
 */
export const DEFAULT_WINDOWS_POD_INTERFACES = ['vEthernet (????????-????-????-????-????????????)'];
const SERVE_ONLY: readonly CollectorCommand[] = ['serve'];
/** Options of every command that gathers (`kappie sources` gathers once to show each source's state). */
const GATHERING_COMMANDS: readonly CollectorCommand[] = ['serve', 'snapshot', 'sources'];
/** Options that name kernel objects: `kappie sources` also prints those names. */
const NAMING_COMMANDS: readonly CollectorCommand[] = ['serve', 'snapshot', 'sources'];

/** Every option, in --help order. Defaults are applied by resolveConfig when neither flag nor env is set. */
export const OPTIONS = [
  option({
    key: 'listen',
    commands: SERVE_ONLY,
    flag: 'listen',
    valueName: 'HOST:PORT',
    env: 'KAPPIE_LISTEN',
    description: 'address to serve /metrics on; an empty host listens on every address, port 0 picks a free port',
    defaultText: ':10093',
    parse: (raw, name) => parseListen(typeof raw === 'string' ? raw : ':10093', name),
  }),
  option({
    key: 'nodeName',
    commands: SERVE_ONLY,
    flag: 'node-name',
    valueName: 'NAME',
    env: 'KAPPIE_NODE_NAME',
    description: 'node_name label on every series (also read from NODE_NAME, the downward API convention)',
    defaultText: 'NODE_NAME, else the hostname',
    parse: (raw) => (typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : os.hostname()),
  }),
  option({
    key: 'cluster',
    commands: SERVE_ONLY,
    flag: 'cluster',
    valueName: 'NAME',
    env: 'KAPPIE_CLUSTER',
    description:
      'cluster label on every series; leave unset when the scraper adds its own (Azure managed Prometheus does)',
    defaultText: 'unset',
    parse: (raw) => (typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined),
  }),
  option({
    key: 'procPath',
    commands: GATHERING_COMMANDS,
    flag: 'proc-path',
    valueName: 'DIR',
    env: 'KAPPIE_PROC_PATH',
    description: 'procfs mount of the host network namespace (/host/proc in a container)',
    defaultText: '/proc',
    parse: (raw, name) => nonEmptyPath(raw ?? '/proc', name),
  }),
  option({
    key: 'sysPath',
    commands: GATHERING_COMMANDS,
    flag: 'sys-path',
    valueName: 'DIR',
    env: 'KAPPIE_SYS_PATH',
    description: 'sysfs mount of the host (/host/sys in a container)',
    defaultText: '/sys',
    parse: (raw, name) => nonEmptyPath(raw ?? '/sys', name),
  }),
  option({
    key: 'tracefsPath',
    commands: NAMING_COMMANDS,
    flag: 'tracefs-path',
    valueName: 'DIR',
    env: 'KAPPIE_TRACEFS_PATH',
    description: 'tracefs mount (mounted there when it is not mounted and the collector may)',
    defaultText: '/sys/kernel/tracing',
    parse: (raw, name) => nonEmptyPath(raw ?? '/sys/kernel/tracing', name),
  }),
  option({
    key: 'tracefsInstance',
    commands: NAMING_COMMANDS,
    flag: 'tracefs-instance',
    valueName: 'NAME',
    env: 'KAPPIE_TRACEFS_INSTANCE',
    description:
      'tracefs instance the drop source creates (replaced at start when a crashed run left it, removed at stop)',
    commandDescriptions: {
      snapshot:
        'the tracefs instance of `kappie serve`, which a snapshot never touches: alone, it counts drops for --duration in an instance of its own, NAME-snapshot, created and removed by the snapshot',
      sources:
        'the tracefs instance of `kappie serve`, named in the list of what serve installs (sources creates none)',
    },
    defaultText: 'kappie',
    parse: (raw, name) => {
      const value = typeof raw === 'string' ? raw.trim() : 'kappie';
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
        throw new ConfigError(name, `"${value}" is not an instance name (letters, digits, _ and -)`);
      }
      return value;
    },
  }),
  option({
    key: 'dropReader',
    commands: GATHERING_COMMANDS,
    flag: 'drop-reader',
    valueName: 'READER',
    env: 'KAPPIE_DROP_READER',
    description:
      'what the drops source counts with: "tracefs" (skb:kfree_skb events in the tracefs instance, by kernel drop reason: counted in the kernel by a hist trigger where it has them, with kappie_drop_bytes where it also has kprobe events, else streamed from trace_pipe; the source is down without tracefs), "hist" (tracefs, hist trigger only: down on a kernel without hist triggers), "stream" (tracefs, always streamed: stack-derived netfilter directions, no kappie_drop_bytes), "counters" (the kernel drop counters: coarser reasons, no privilege), or "auto" (tracefs, else the counters)',
    defaultText: 'auto',
    parse: (raw, name) => oneOf(['auto', 'tracefs', 'hist', 'stream', 'counters'] as const)(raw ?? 'auto', name),
  }),
  option({
    key: 'dropStreamFormat',
    commands: GATHERING_COMMANDS,
    flag: 'drop-stream-format',
    valueName: 'FORMAT',
    env: 'KAPPIE_DROP_STREAM_FORMAT',
    description:
      'how tracefs events are read where the kernel has no hist triggers: "raw" (the per-CPU binary trace_pipe_raw pages: no kernel text formatting, about half the CPU per drop; needs kernel addresses in /proc/kallsyms), "text" (trace_pipe lines), or "auto" (raw, else text; the status page says which)',
    defaultText: 'auto',
    parse: (raw, name) => oneOf(['auto', 'raw', 'text'] as const)(raw ?? 'auto', name),
  }),
  option({
    key: 'nftTable',
    commands: NAMING_COMMANDS,
    flag: 'nft-table',
    valueName: 'NAME',
    env: 'KAPPIE_NFT_TABLE',
    description:
      'name of the nftables tables of the TCP flag counters: one in family inet, and one in family bridge while an uplink is a bridge port; owned by the serving collector (never replaced while it lives, removed by the kernel when it exits)',
    commandDescriptions: {
      snapshot:
        'name of the nftables tables of the `kappie serve` collector in this network namespace: a snapshot alone reads their TCP flag counters (it never creates, changes or removes a table)',
      sources:
        'name of the nftables tables of the `kappie serve` collector in this network namespace: the tcp_flags source reads their counters, and the list of what serve installs names them (sources never creates one)',
    },
    defaultText: 'kappie',
    parse: (raw, name) => {
      const value = typeof raw === 'string' ? raw.trim() : 'kappie';
      if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(value)) {
        throw new ConfigError(name, `"${value}" is not a table name (a letter, then letters, digits, _ and -)`);
      }
      return value;
    },
  }),
  option({
    key: 'metricPrefix',
    commands: SERVE_ONLY,
    flag: 'metric-prefix',
    valueName: 'PREFIX',
    env: 'KAPPIE_METRIC_PREFIX',
    description: `prefix of every metric name (--compat retina sets ${RETINA_METRIC_PREFIX})`,
    defaultText: DEFAULT_METRIC_PREFIX,
    parse: (raw, name) => {
      const value = typeof raw === 'string' ? raw.trim() : DEFAULT_METRIC_PREFIX;
      if (!METRIC_PREFIX_PATTERN.test(value)) {
        throw new ConfigError(
          name,
          `"${value}" would make invalid metric names (letters, digits, _ and :; no digit first)`,
        );
      }
      return value;
    },
  }),
  option({
    key: 'compat',
    commands: SERVE_ONLY,
    flag: 'compat',
    valueName: 'MODE',
    env: 'KAPPIE_COMPAT',
    description: `"retina": the prefix ${RETINA_METRIC_PREFIX} and the label values Retina's published dashboards query (README, "Retina compatibility"); "none": Kappie's own names`,
    defaultText: 'none',
    parse: (raw, name) => oneOf(['none', 'retina'] as const)(raw ?? 'none', name),
  }),
  option({
    key: 'interfaceInclude',
    commands: GATHERING_COMMANDS,
    flag: 'interface-include',
    valueName: 'GLOBS',
    env: 'KAPPIE_INTERFACE_INCLUDE',
    description: 'comma-separated interface name patterns to report (e.g. eth*,ens*); empty reports all',
    defaultText: 'all',
    parse: parseGlobs,
  }),
  option({
    key: 'interfaceExclude',
    commands: GATHERING_COMMANDS,
    flag: 'interface-exclude',
    valueName: 'GLOBS',
    env: 'KAPPIE_INTERFACE_EXCLUDE',
    description: 'comma-separated interface name patterns never to report',
    defaultText: 'none',
    parse: parseGlobs,
  }),
  option({
    key: 'podInterfaces',
    commands: GATHERING_COMMANDS,
    flag: 'pod-interfaces',
    valueName: 'GLOBS',
    env: 'KAPPIE_POD_INTERFACES',
    description:
      'pod-side interface patterns, summed into interface_name="pod_interfaces" so series do not grow with pods; set, they replace the kernel rule',
    defaultText: `Linux: the kernel rule (veths whose peer is in another namespace), ${DEFAULT_POD_INTERFACES.join(',')} without netlink; Windows: ${DEFAULT_WINDOWS_POD_INTERFACES.join(',')}`,
    parse: (raw, name) => (raw === undefined ? [] : parseGlobs(raw, name)),
  }),
  option({
    key: 'perPodInterfaceStats',
    commands: GATHERING_COMMANDS,
    flag: 'per-pod-interface-stats',
    env: 'KAPPIE_PER_POD_INTERFACE_STATS',
    description: 'report every pod-side interface on its own (series grow with pods)',
    defaultText: 'false',
    parse: parseBoolean,
  }),
  option({
    key: 'uplinkInterfaces',
    commands: GATHERING_COMMANDS,
    flag: 'uplink-interfaces',
    valueName: 'GLOBS',
    env: 'KAPPIE_UPLINK_INTERFACES',
    description:
      'comma-separated interface names or globs (* ?) whose traffic is kappie_forward_* and tcp_flag_counters; empty: those holding the default routes (Linux), the physical adapters that are up (Windows)',
    defaultText: 'default-route interfaces; Windows: physical adapters',
    parse: parseGlobs,
  }),
  option({
    key: 'ethtoolInterfaces',
    commands: GATHERING_COMMANDS,
    flag: 'ethtool-interfaces',
    valueName: 'GLOBS',
    env: 'KAPPIE_ETHTOOL_INTERFACES',
    description:
      'comma-separated interfaces whose NIC driver statistics (ethtool -S) go in interface_stats; empty: the uplinks and the devices below them (bond members, the accelerated-networking VF)',
    defaultText: 'uplinks and their lower devices',
    parse: parseGlobs,
  }),
  option({
    key: 'ethtoolMaxStatistics',
    commands: GATHERING_COMMANDS,
    flag: 'ethtool-max-statistics',
    valueName: 'N',
    env: 'KAPPIE_ETHTOOL_MAX_STATISTICS',
    description:
      'driver statistics exported per interface at most, the first ones in driver order (the source notes what it left out); 0 reads none',
    defaultText: '256',
    parse: (raw, name) => integerParser(0, 100_000)(raw ?? '256', name),
  }),
  option({
    key: 'tcpRemoteTopK',
    commands: GATHERING_COMMANDS,
    flag: 'tcp-remote-top-k',
    valueName: 'N',
    env: 'KAPPIE_TCP_REMOTE_TOP_K',
    description:
      'remote address and service port pairs reported by tcp_connection_remote; the rest sum into address="other"',
    defaultText: '20',
    parse: (raw, name) => integerParser(0, 1000)(raw ?? '20', name),
  }),
  option({
    key: 'tcpScanMaxSockets',
    commands: GATHERING_COMMANDS,
    flag: 'tcp-scan-max-sockets',
    valueName: 'N',
    env: 'KAPPIE_TCP_SCAN_MAX_SOCKETS',
    description: 'above this many TCP sockets the per-remote scan is skipped (the source says so) to keep scrapes fast',
    defaultText: '50000',
    parse: (raw, name) => integerParser(0, 100_000_000)(raw ?? '50000', name),
  }),
  option({
    key: 'tcpSocketReader',
    commands: GATHERING_COMMANDS,
    flag: 'tcp-socket-reader',
    valueName: 'READER',
    env: 'KAPPIE_TCP_SOCKET_READER',
    description:
      'TCP socket table source: "netlink" (SOCK_DIAG, cheaper), "procfs" (/proc/net/tcp{,6} under --proc-path), or "auto" (netlink when --proc-path is the live procfs and netlink works)',
    defaultText: 'auto',
    parse: (raw, name) => oneOf(['auto', 'netlink', 'procfs'] as const)(raw ?? 'auto', name),
  }),
  option({
    key: 'statistics',
    commands: GATHERING_COMMANDS,
    flag: 'statistics',
    valueName: 'SET',
    env: 'KAPPIE_STATISTICS',
    description: 'protocol counters in *_connection_stats: "default" (what operators look at) or "all"',
    defaultText: 'default',
    parse: (raw, name) => oneOf(['default', 'all'] as const)(raw ?? 'default', name),
  }),
  option({
    key: 'sources',
    commands: GATHERING_COMMANDS,
    flag: 'sources',
    valueName: 'NAMES',
    env: 'KAPPIE_SOURCES',
    description: 'comma-separated sources to run (see `kappie sources`); empty runs every source of this OS',
    defaultText: 'all',
    parse: (raw) => parseList(raw),
  }),
  option({
    key: 'disabledSources',
    commands: GATHERING_COMMANDS,
    flag: 'disable-sources',
    valueName: 'NAMES',
    env: 'KAPPIE_DISABLE_SOURCES',
    description: 'comma-separated sources not to run',
    defaultText: 'none',
    parse: (raw) => parseList(raw),
  }),
  option({
    key: 'scrapeReuseSeconds',
    commands: SERVE_ONLY,
    flag: 'scrape-reuse-window',
    valueName: 'SECONDS',
    env: 'KAPPIE_SCRAPE_REUSE_WINDOW',
    description:
      'a scrape this soon after the last gathering finished gets that gathering again instead of a new one (bounds the cost of clients that scrape in a loop; below 1 s so a 1 s scrape interval always gets fresh data); 0 gathers at every scrape',
    defaultText: '0.5',
    parse: (raw, name) => secondsParser(0, 60)(raw ?? '0.5', name),
  }),
  option({
    key: 'newSeriesHoldSeconds',
    commands: SERVE_ONLY,
    flag: 'new-series-hold',
    valueName: 'SECONDS',
    env: 'KAPPIE_NEW_SERIES_HOLD',
    description:
      'a counter series that first appears with a value above 0 (a drop reason seen for the first time, a new interface) is exported at 0 this long before its value, so rate() and increase() see that first increase; set it at least to the longest scrape interval of any scraper; 0 exports the value at once',
    defaultText: String(DEFAULT_NEW_SERIES_HOLD_SECONDS),
    parse: (raw, name) => secondsParser(0, 3600)(raw ?? String(DEFAULT_NEW_SERIES_HOLD_SECONDS), name),
  }),
  option({
    key: 'maxConnections',
    commands: SERVE_ONLY,
    flag: 'max-connections',
    valueName: 'N',
    env: 'KAPPIE_MAX_CONNECTIONS',
    description:
      'HTTP connections served at once; when full, the oldest connection with no request in progress is closed for the new one',
    defaultText: '64',
    parse: (raw, name) => integerParser(1, 10_000)(raw ?? '64', name),
  }),
  option({
    key: 'readHeaderTimeoutSeconds',
    commands: SERVE_ONLY,
    flag: 'read-header-timeout',
    valueName: 'SECONDS',
    env: 'KAPPIE_READ_HEADER_TIMEOUT',
    description:
      'time a connection has to send a complete request head (after connecting, TLS handshake included) before it is closed',
    defaultText: '5',
    parse: (raw, name) => secondsParser(0.1, 300)(raw ?? '5', name),
  }),
  option({
    key: 'webConfigFile',
    commands: SERVE_ONLY,
    flag: 'web-config-file',
    valueName: 'FILE',
    env: 'KAPPIE_WEB_CONFIG_FILE',
    description:
      'web configuration file (Prometheus exporter-toolkit format: TLS, client certificates, basic auth with bcrypt hashes, response headers); re-read when it or its files change',
    defaultText: 'none: plain HTTP without authentication',
    parse: (raw) => (typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined),
  }),
  option({
    key: 'logLevel',
    commands: SERVE_ONLY,
    flag: 'log-level',
    valueName: 'LEVEL',
    env: 'KAPPIE_LOG_LEVEL',
    description: 'debug, info, warn or error',
    defaultText: 'info',
    parse: (raw, name) => oneOf(['debug', 'info', 'warn', 'error'] as const)(raw ?? 'info', name),
  }),
] as const satisfies readonly OptionSpec[];

/** camelCase name commander gives a long flag. */
export function flagProperty(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** Where each option's value came from, as the user wrote it: `--flag`, the environment variable, or `--flag` (default). */
export type OptionOrigins = Readonly<Record<keyof CollectorConfig, string>>;

export interface ResolvedConfig {
  readonly config: CollectorConfig;
  /** For errors found after parsing (an unknown source name): they must name what the user set. */
  readonly origins: OptionOrigins;
}

/**
 * Builds the config of `command` from parsed flags (by commander property name) and the environment, with where each
 * value came from. Flags win over environment variables; NODE_NAME is honoured for node-name as Kubernetes' downward
 * API examples set it. Options the command does not take get their defaults, whatever the environment says (a
 * `kubectl exec ... kappie snapshot` inherits the serving container's variables). Throws a ConfigError naming the flag
 * or variable that holds a bad value.
 */
export function resolveConfigWithOrigins(
  flags: Readonly<Record<string, Raw>>,
  env: Readonly<Record<string, string | undefined>>,
  command: CollectorCommand = 'serve',
): ResolvedConfig {
  const config: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  /** The options the user set (flag or environment), as opposed to defaults. */
  const given = new Set<string>();
  for (const spec of OPTIONS as readonly OptionSpec[]) {
    const applies = spec.commands.includes(command);
    let raw: Raw = applies ? flags[flagProperty(spec.flag)] : undefined;
    let origin = `--${spec.flag}`;
    if (applies && raw === undefined && env[spec.env] !== undefined) {
      raw = env[spec.env];
      origin = spec.env;
    }
    if (applies && raw === undefined && spec.key === 'nodeName' && env.NODE_NAME !== undefined) {
      raw = env.NODE_NAME;
      origin = 'NODE_NAME';
    }
    config[spec.key] = spec.parse(raw, origin);
    origins[spec.key] = origin;
    if (raw !== undefined) given.add(spec.key);
  }
  if (config.compat === 'retina') {
    // Retina's dashboards query one prefix: another one would leave every panel empty.
    if (given.has('metricPrefix') && config.metricPrefix !== RETINA_METRIC_PREFIX) {
      throw new ConfigError(
        origins['metricPrefix']!,
        `"${String(config.metricPrefix)}" contradicts --compat retina, whose dashboards query ${RETINA_METRIC_PREFIX}* (leave the prefix unset)`,
      );
    }
    config.metricPrefix = RETINA_METRIC_PREFIX;
  }
  return { config: config as unknown as CollectorConfig, origins: origins as OptionOrigins };
}

/** The config alone (see resolveConfigWithOrigins). */
export function resolveConfig(
  flags: Readonly<Record<string, Raw>>,
  env: Readonly<Record<string, string | undefined>>,
  command: CollectorCommand = 'serve',
): CollectorConfig {
  return resolveConfigWithOrigins(flags, env, command).config;
}

/** Matches interface names against globs (* any run, ? one character: one Unicode code point). */
export function globMatcher(globs: readonly string[]): (name: string) => boolean {
  if (globs.length === 0) return () => false;
  const pattern = globs
    .map((glob) =>
      glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.'),
    )
    .join('|');
  const regex = new RegExp(`^(?:${pattern})$`, 'u');
  return (name) => regex.test(name);
}
