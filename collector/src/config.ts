/**
 * The collector's configuration: one table of options from which the CLI flags, the environment variables, --help and
 * the README's configuration reference are all made, so they cannot disagree.
 *
 * Parsing is pure: `resolveConfig` takes flag values and an environment and returns a typed config or throws a
 * ConfigError naming the option and what it accepts.
 */
import * as os from 'node:os';
import { DEFAULT_METRIC_PREFIX, METRIC_PREFIX_PATTERN, RETINA_METRIC_PREFIX } from './catalog';
import { ConfigError } from './errors';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type StatisticsSet = 'default' | 'all';
/** Where the TCP socket table is read from: netlink SOCK_DIAG, the /proc/net/tcp{,6} files, or the best available. */
export type TcpSocketReader = 'auto' | 'netlink' | 'procfs';
/** What the drop source counts with: skb:kfree_skb events in tracefs, the kernel's drop counters, or the best available. */
export type DropReader = 'auto' | 'tracefs' | 'counters';
/** Whose names the exposition writes: ours, or the metric prefix and label values Retina's dashboards query. */
export type CompatMode = 'none' | 'retina';

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
  /** nftables table (family inet) of the TCP flag counters. */
  readonly nftTable: string;
  readonly metricPrefix: string;
  /** `retina`: Retina's prefix and label values at exposition (compat-retina.ts); `none`: Kappie's own. */
  readonly compat: CompatMode;
  /** Interfaces reported at all (globs); empty: all. */
  readonly interfaceInclude: readonly string[];
  /** Interfaces never reported (globs). */
  readonly interfaceExclude: readonly string[];
  /** Pod-side interfaces (globs), summed into one interface_name unless perPodInterfaceStats. */
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
}

type Raw = string | boolean | undefined;

export interface OptionSpec<K extends keyof CollectorConfig = keyof CollectorConfig> {
  readonly key: K;
  /** Long flag without dashes. */
  readonly flag: string;
  /** Placeholder shown in --help; absent for boolean switches. */
  readonly valueName?: string;
  readonly env: string;
  readonly description: string;
  /** Default as shown in --help and the README. */
  readonly defaultText: string;
  readonly parse: (raw: Raw, option: string) => CollectorConfig[K];
}

function option<K extends keyof CollectorConfig>(spec: OptionSpec<K>): OptionSpec<K> {
  return spec;
}

export function parseListen(raw: string, optionName: string): ListenAddress {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*):(\d{1,5})$/.exec(raw.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(optionName, `"${raw}" is not HOST:PORT (examples: :10093, 0.0.0.0:10093, [::1]:10093)`);
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

function parseGlobs(raw: Raw, optionName: string): string[] {
  const globs = parseList(raw);
  for (const glob of globs) {
    // Spaces, parentheses and # for Windows adapter names such as "vEthernet (Ethernet 2)".
    if (!/^[A-Za-z0-9_.:@*?() #-]+$/.test(glob)) {
      throw new ConfigError(
        optionName,
        `"${glob}" is not an interface name pattern (letters, digits, space, . _ - : @ ( ) # and * ?)`,
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

/** Pod-side interface names of the CNIs AKS and common clusters use (Azure CNI, kubenet, Cilium, Calico, Flannel...). */
export const DEFAULT_POD_INTERFACES = ['veth*', 'azv*', 'lxc*', 'cali*'];
/**
 * Pod vNICs on Windows nodes as GetIfTable2 names them: "vEthernet (<endpoint GUID>)". The host's own vEthernet
 * adapters ("vEthernet (Ethernet)", "vEthernet (nat)") and the host vNIC on the pod network ("vEthernet (Container NIC
 * <hex>)", "Container NIC <hex>") are not pods and do not match.
 */
export const DEFAULT_WINDOWS_POD_INTERFACES = ['vEthernet (????????-????-????-????-????????????)'];
/** Every option, in --help order. Defaults are applied by resolveConfig when neither flag nor env is set. */
export const OPTIONS = [
  option({
    key: 'listen',
    flag: 'listen',
    valueName: 'HOST:PORT',
    env: 'KAPPIE_LISTEN',
    description: 'address to serve /metrics on; an empty host listens on every address, port 0 picks a free port',
    defaultText: ':10093',
    parse: (raw, name) => parseListen(typeof raw === 'string' ? raw : ':10093', name),
  }),
  option({
    key: 'nodeName',
    flag: 'node-name',
    valueName: 'NAME',
    env: 'KAPPIE_NODE_NAME',
    description: 'node_name label on every series (also read from NODE_NAME, the downward API convention)',
    defaultText: 'NODE_NAME, else the hostname',
    parse: (raw) => (typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : os.hostname()),
  }),
  option({
    key: 'cluster',
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
    flag: 'proc-path',
    valueName: 'DIR',
    env: 'KAPPIE_PROC_PATH',
    description: 'procfs mount of the host network namespace (/host/proc in a container)',
    defaultText: '/proc',
    parse: (raw, name) => nonEmptyPath(raw ?? '/proc', name),
  }),
  option({
    key: 'sysPath',
    flag: 'sys-path',
    valueName: 'DIR',
    env: 'KAPPIE_SYS_PATH',
    description: 'sysfs mount of the host (/host/sys in a container)',
    defaultText: '/sys',
    parse: (raw, name) => nonEmptyPath(raw ?? '/sys', name),
  }),
  option({
    key: 'tracefsPath',
    flag: 'tracefs-path',
    valueName: 'DIR',
    env: 'KAPPIE_TRACEFS_PATH',
    description: 'tracefs mount (mounted there when it is not mounted and the collector may)',
    defaultText: '/sys/kernel/tracing',
    parse: (raw, name) => nonEmptyPath(raw ?? '/sys/kernel/tracing', name),
  }),
  option({
    key: 'tracefsInstance',
    flag: 'tracefs-instance',
    valueName: 'NAME',
    env: 'KAPPIE_TRACEFS_INSTANCE',
    description:
      'tracefs instance the drop source creates (replaced at start when a crashed run left it, removed at stop)',
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
    flag: 'drop-reader',
    valueName: 'READER',
    env: 'KAPPIE_DROP_READER',
    description:
      'what the drops source counts with: "tracefs" (skb:kfree_skb events in the tracefs instance: kernel drop reasons; the source is down without tracefs), "counters" (the kernel drop counters: coarser reasons, no privilege), or "auto" (tracefs, else the counters)',
    defaultText: 'auto',
    parse: (raw, name) => oneOf(['auto', 'tracefs', 'counters'] as const)(raw ?? 'auto', name),
  }),
  option({
    key: 'nftTable',
    flag: 'nft-table',
    valueName: 'NAME',
    env: 'KAPPIE_NFT_TABLE',
    description:
      'nftables table (family inet) of the TCP flag counters (replaced at start when a crashed run left it, removed at stop)',
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
    flag: 'compat',
    valueName: 'MODE',
    env: 'KAPPIE_COMPAT',
    description: `"retina": the prefix ${RETINA_METRIC_PREFIX} and the label values Retina's published dashboards query (README, "Retina compatibility"); "none": Kappie's own names`,
    defaultText: 'none',
    parse: (raw, name) => oneOf(['none', 'retina'] as const)(raw ?? 'none', name),
  }),
  option({
    key: 'interfaceInclude',
    flag: 'interface-include',
    valueName: 'GLOBS',
    env: 'KAPPIE_INTERFACE_INCLUDE',
    description: 'comma-separated interface name patterns to report (e.g. eth*,ens*); empty reports all',
    defaultText: 'all',
    parse: parseGlobs,
  }),
  option({
    key: 'interfaceExclude',
    flag: 'interface-exclude',
    valueName: 'GLOBS',
    env: 'KAPPIE_INTERFACE_EXCLUDE',
    description: 'comma-separated interface name patterns never to report',
    defaultText: 'none',
    parse: parseGlobs,
  }),
  option({
    key: 'podInterfaces',
    flag: 'pod-interfaces',
    valueName: 'GLOBS',
    env: 'KAPPIE_POD_INTERFACES',
    description: `pod-side interface patterns, summed into interface_name="pod_interfaces" so series do not grow with pods`,
    // Linux and Windows names never collide, so one default serves both.
    defaultText: [...DEFAULT_POD_INTERFACES, ...DEFAULT_WINDOWS_POD_INTERFACES].join(','),
    parse: (raw, name) =>
      raw === undefined ? [...DEFAULT_POD_INTERFACES, ...DEFAULT_WINDOWS_POD_INTERFACES] : parseGlobs(raw, name),
  }),
  option({
    key: 'perPodInterfaceStats',
    flag: 'per-pod-interface-stats',
    env: 'KAPPIE_PER_POD_INTERFACE_STATS',
    description: 'report every pod-side interface on its own (series grow with pods)',
    defaultText: 'false',
    parse: parseBoolean,
  }),
  option({
    key: 'uplinkInterfaces',
    flag: 'uplink-interfaces',
    valueName: 'NAMES',
    env: 'KAPPIE_UPLINK_INTERFACES',
    description:
      'comma-separated interfaces whose traffic is kappie_forward_*; empty: those holding the default routes (Linux), the physical adapters that are up (Windows)',
    defaultText: 'default-route interfaces; Windows: physical adapters',
    parse: parseGlobs,
  }),
  option({
    key: 'ethtoolInterfaces',
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
    flag: 'tcp-remote-top-k',
    valueName: 'N',
    env: 'KAPPIE_TCP_REMOTE_TOP_K',
    description: 'remote address:port pairs reported by tcp_connection_remote; the rest sum into address="other"',
    defaultText: '20',
    parse: (raw, name) => integerParser(0, 1000)(raw ?? '20', name),
  }),
  option({
    key: 'tcpScanMaxSockets',
    flag: 'tcp-scan-max-sockets',
    valueName: 'N',
    env: 'KAPPIE_TCP_SCAN_MAX_SOCKETS',
    description: 'above this many TCP sockets the per-remote scan is skipped (the source says so) to keep scrapes fast',
    defaultText: '50000',
    parse: (raw, name) => integerParser(0, 100_000_000)(raw ?? '50000', name),
  }),
  option({
    key: 'tcpSocketReader',
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
    flag: 'statistics',
    valueName: 'SET',
    env: 'KAPPIE_STATISTICS',
    description: 'protocol counters in *_connection_stats: "default" (what operators look at) or "all"',
    defaultText: 'default',
    parse: (raw, name) => oneOf(['default', 'all'] as const)(raw ?? 'default', name),
  }),
  option({
    key: 'sources',
    flag: 'sources',
    valueName: 'NAMES',
    env: 'KAPPIE_SOURCES',
    description: 'comma-separated sources to run (see `kappie sources`); empty runs every source of this OS',
    defaultText: 'all',
    parse: (raw) => parseList(raw),
  }),
  option({
    key: 'disabledSources',
    flag: 'disable-sources',
    valueName: 'NAMES',
    env: 'KAPPIE_DISABLE_SOURCES',
    description: 'comma-separated sources not to run',
    defaultText: 'none',
    parse: (raw) => parseList(raw),
  }),
  option({
    key: 'logLevel',
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

/**
 * Builds the config from parsed flags (by commander property name) and the environment. Flags win over environment
 * variables; NODE_NAME is honoured for node-name as Kubernetes' downward API examples set it.
 */
export function resolveConfig(
  flags: Readonly<Record<string, Raw>>,
  env: Readonly<Record<string, string | undefined>>,
): CollectorConfig {
  const config: Record<string, unknown> = {};
  const origins = new Map<keyof CollectorConfig, string>();
  for (const spec of OPTIONS as readonly OptionSpec[]) {
    let raw: Raw = flags[flagProperty(spec.flag)];
    let origin = `--${spec.flag}`;
    if (raw === undefined && env[spec.env] !== undefined) {
      raw = env[spec.env];
      origin = spec.env;
    }
    if (raw === undefined && spec.key === 'nodeName' && env.NODE_NAME !== undefined) {
      raw = env.NODE_NAME;
      origin = 'NODE_NAME';
    }
    config[spec.key] = spec.parse(raw, origin);
    if (raw !== undefined) origins.set(spec.key, origin);
  }
  if (config.compat === 'retina') {
    // Retina's dashboards query one prefix: another one would leave every panel empty.
    const prefixOrigin = origins.get('metricPrefix');
    if (prefixOrigin !== undefined && config.metricPrefix !== RETINA_METRIC_PREFIX) {
      throw new ConfigError(
        prefixOrigin,
        `"${String(config.metricPrefix)}" contradicts --compat retina, whose dashboards query ${RETINA_METRIC_PREFIX}* (leave the prefix unset)`,
      );
    }
    config.metricPrefix = RETINA_METRIC_PREFIX;
  }
  return config as unknown as CollectorConfig;
}

/** Matches interface names against globs (* any run, ? one character). */
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
  const regex = new RegExp(`^(?:${pattern})$`);
  return (name) => regex.test(name);
}
