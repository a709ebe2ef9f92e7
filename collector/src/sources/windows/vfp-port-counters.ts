/**
 * The Virtual Filtering Platform (VFP) port counters of the Hyper-V switch, per switch port, summed over the pod
 * ports: `vfpctrl /list-vmswitch-port` lists the ports, `vfpctrl /port <name> /get-port-counter` gives each port's
 * counters per direction. Fills
 * - kappie_tcp_flag_counters{flag,direction}: SYN, SYNACK, FIN, RST packets;
 * - kappie_drop_count{reason,direction}: VfpAcl, the port's "Dropped ACL packets";
 * - kappie_tcp_connection_stats: VFP's TCP connection tracking (verified, reset, half-open timeouts, ...), with an
 *   In/Out suffix for the direction.
 *
 * Both commands are read in their text form, the form Retina's Windows agent parses (microsoft/retina
 * pkg/plugin/hnsstats/vfp_counters_windows.go): blocks of `Key : value` lines separated by blank lines, CRLF line
 * ends, an `ITEM LIST` / `=====` header and a closing `Command <name> succeeded!` status line. vfpctrl also prints
 * JSON with `/format 1` (a Microsoft Windows-node network script pipes `vfpctrl /port <id> /get-port-counter
 * /format 1` into ConvertFrom-Json and reads `InformationArray.PortCounters`), but no public material names the
 * SYN and SYN-ACK keys of that JSON, while Retina's parser names every text key read here.
 *
 * Which ports count (the rule the README's Windows section documents): a Windows node's switch has the external
 * port (friendly name `ExternalPort`), the host's own vNIC (friendly name `Container NIC <hex>`) and one port per
 * pod endpoint, whose friendly name is the endpoint port GUID (as listed in princepereira/Commands' VFP notes). Only
 * pod ports are summed, the ports Retina reads (it maps its HNS pod endpoints to ports): a packet from the host to a
 * pod leaves the host vNIC port and enters the pod port, and a pod's packet to the world leaves its port and crosses
 * the external port, so counting either of those ports too would count one packet twice, once per direction.
 *
 * Node values are SUMS over ports (Retina sets each port's value in turn, so its "node" value is the last port
 * read), kept monotonic while ports come and go with pods: one MonotonicSum whose members are the ports, keyed by
 * port name. A port stays remembered while vfpctrl lists it, however many gatherings its counter query fails; a port
 * no longer listed is forgotten.
 */
import { DIRECTION, LABEL, type Direction, type TcpFlag } from '../../catalog';
import { describeError, ParseError, SourceUnavailableError } from '../../errors';
import { addReading, MonotonicSumBySeries, type IncarnationSet } from '../../monotonic-sum';
import type { Sample, Samples, Source } from '../../source';
import { runTool, type ToolRunner } from './command';

const VFPCTRL = 'vfpctrl.exe';
export const LIST_PORTS_ARGS = ['/list-vmswitch-port'];
export function portCounterArgs(portName: string): string[] {
  return ['/port', portName, '/get-port-counter'];
}
/** Ports queried at once: vfpctrl is quick, but a node with many pods should not start a process per pod at once. */
const CONCURRENT_QUERIES = 4;

/** What a switch port is: see the file comment for how each is recognised and why only pod ports are summed. */
export type VfpPortKind = 'external' | 'host' | 'pod' | 'other';

export interface VfpPort {
  /** The port name vfpctrl takes in /port (a GUID). */
  readonly name: string;
  /** The friendly name: `ExternalPort`, `Container NIC <hex>` (the host vNIC) or a pod endpoint's GUID. */
  readonly friendlyName: string;
  readonly kind: VfpPortKind;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Classifies a port by its friendly name. */
export function vfpPortKind(friendlyName: string): VfpPortKind {
  if (/^ExternalPort$/i.test(friendlyName)) return 'external';
  if (/^Container NIC [0-9a-f]+$/i.test(friendlyName)) return 'host';
  if (GUID.test(friendlyName)) return 'pod';
  return 'other';
}

/** A text key as Retina compares it: spaces removed, and (here) case folded. */
function normalizedKey(key: string): string {
  return key.replace(/\s+/g, '').toLowerCase();
}

interface KeyValueLine {
  readonly key: string;
  readonly value: string;
}

/** `Key : value` (split at the first colon; both sides trimmed), or undefined for a line without one. */
function keyValue(line: string): KeyValueLine | undefined {
  const colon = line.indexOf(':');
  if (colon < 0) return undefined;
  return { key: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
}

/** Throws on a closing status line that says the command failed (vfpctrl prints `Command <name> failed...`). */
function checkStatus(lines: readonly string[], file: string): void {
  const status = lines.find((line) => /^Command\s+\S+\s+(succeeded|failed)/i.test(line.trim()));
  if (status && /failed/i.test(status)) throw new ParseError(file, status.trim());
}

/** Decodes `vfpctrl /list-vmswitch-port` text: one block per port, with `Port name` and `Port Friendly name`. */
export function parseVfpPortList(text: string, file = 'vfpctrl /list-vmswitch-port'): VfpPort[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  checkStatus(lines, file);
  const ports: VfpPort[] = [];
  let block: Map<string, string> = new Map();
  const endBlock = () => {
    const name = block.get('portname');
    if (name !== undefined) {
      if (name === '') throw new ParseError(file, 'a port block has an empty Port name');
      const friendlyName = block.get('portfriendlyname') ?? '';
      ports.push({ name, friendlyName, kind: vfpPortKind(friendlyName) });
    } else if (block.has('portfriendlyname')) {
      throw new ParseError(file, `the port block of "${block.get('portfriendlyname')}" has no Port name`);
    }
    block = new Map();
  };
  for (const line of lines) {
    if (line.trim() === '') {
      endBlock();
      continue;
    }
    const pair = keyValue(line);
    if (pair) block.set(normalizedKey(pair.key), pair.value);
  }
  endBlock();
  return ports;
}

/**
 * The text keys read from `/get-port-counter`, normalised as Retina compares them (spaces removed; Retina's
 * identifiers in vfp_counters_windows.go: SYNpackets, SYN-ACKpackets, FINpackets, RSTpackets, TCPConnectionsVerified,
 * TCPConnectionsTimedOut, TCPConnectionsReset, TCPConnectionsResetbySYN, TCPConnectionsClosedbyFIN,
 * TCPHalfOpenTimeouts, TCPConnectionsExpiredtoTimeWait, DroppedACLpackets), here also lower-cased.
 */
export const VFP_FLAG_KEYS: Readonly<Record<string, TcpFlag>> = {
  synpackets: 'SYN',
  'syn-ackpackets': 'SYNACK',
  finpackets: 'FIN',
  rstpackets: 'RST',
};

/** VFP TCP connection tracking counters -> the statistic_name they are exported as (plus In or Out). */
export const VFP_CONNECTION_KEYS: Readonly<Record<string, string>> = {
  tcpconnectionsverified: 'TcpConnectionsVerified',
  tcpconnectionstimedout: 'TcpConnectionsTimedOut',
  tcpconnectionsreset: 'TcpConnectionsResets',
  tcpconnectionsresetbysyn: 'TcpConnectionsResetBySyn',
  tcpconnectionsclosedbyfin: 'TcpConnectionsClosedByFin',
  tcphalfopentimeouts: 'TcpHalfOpenTimeouts',
  tcpconnectionsexpiredtotimewait: 'TcpConnectionsExpiredToTimeWait',
};

/**
 * Drop counters that count dropped PACKETS, -> their reason. Only keys known to count packets become reasons: a
 * "Dropped flows" line counts flows, and other Dropped lines have no public documentation of what they count.
 */
export const VFP_DROP_KEYS: Readonly<Record<string, string>> = {
  droppedaclpackets: 'VfpAcl',
};

const EXPECTED_KEYS = [
  ...Object.keys(VFP_FLAG_KEYS),
  ...Object.keys(VFP_CONNECTION_KEYS),
  ...Object.keys(VFP_DROP_KEYS),
];

export interface VfpDirectionCounters {
  readonly direction: Direction;
  readonly flags: Partial<Record<TcpFlag, number>>;
  /** reason (VfpAcl) -> packets */
  readonly drops: Record<string, number>;
  /** statistic_name (TcpConnectionsVerifiedIn, ...) -> count */
  readonly connections: Record<string, number>;
  /** Expected keys (normalised, as in VFP_*_KEYS) vfpctrl did not print for this direction. */
  readonly missing: readonly string[];
}

/**
 * `Direction - OUT` / `Direction - IN` headings (Retina splits on "Direction-IN" after removing spaces, OUT first):
 * OUT is egress (out of the port towards the switch), IN ingress (into the port, towards its vNIC).
 */
function directionHeading(line: string): Direction | undefined {
  const match = /^direction-?(in|out)$/.exec(normalizedKey(line).replace(/:$/, ''));
  if (!match) return undefined;
  return match[1] === 'in' ? DIRECTION.ingress : DIRECTION.egress;
}

function counterValue(value: string, file: string, key: string): number {
  if (!/^\d+$/.test(value)) throw new ParseError(file, `${key}: expected a non-negative whole number, got "${value}"`);
  return Number(value);
}

/** Decodes `vfpctrl /port <name> /get-port-counter` text into counters per direction (OUT, then IN). */
export function parseVfpPortCounters(text: string, file = 'vfpctrl /get-port-counter'): VfpDirectionCounters[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  checkStatus(lines, file);
  const values = new Map<Direction, Map<string, number>>();
  let direction: Direction | undefined;
  for (const line of lines) {
    const heading = directionHeading(line);
    if (heading) {
      direction = heading;
      if (values.has(heading)) throw new ParseError(file, `Direction ${heading} appears twice`);
      values.set(heading, new Map());
      continue;
    }
    const pair = keyValue(line);
    if (!pair || direction === undefined) continue;
    const key = normalizedKey(pair.key);
    if (EXPECTED_KEYS.includes(key)) values.get(direction)!.set(key, counterValue(pair.value, file, pair.key));
  }
  return [...values].map(([dir, read]) => {
    const suffix = dir === DIRECTION.ingress ? 'In' : 'Out';
    const flags: Partial<Record<TcpFlag, number>> = {};
    const connections: Record<string, number> = {};
    const drops: Record<string, number> = {};
    for (const [key, flag] of Object.entries(VFP_FLAG_KEYS)) if (read.has(key)) flags[flag] = read.get(key)!;
    for (const [key, name] of Object.entries(VFP_CONNECTION_KEYS)) {
      if (read.has(key)) connections[`${name}${suffix}`] = read.get(key)!;
    }
    for (const [key, reason] of Object.entries(VFP_DROP_KEYS)) if (read.has(key)) drops[reason] = read.get(key)!;
    return { direction: dir, flags, drops, connections, missing: EXPECTED_KEYS.filter((key) => !read.has(key)) };
  });
}

const SEPARATOR = '\u0000';
/** Series keys of the one sum over ports: the metric, then its label values, joined by SEPARATOR. */
const FLAG = 'flag';
const DROP = 'drop';
const CONNECTION = 'connection';

/**
 * Node totals over ports. `perPort` holds the ports read this gathering (port name -> counters); `listedPorts` every
 * port vfpctrl listed, read or not: ports outside it are forgotten.
 */
export function vfpSamples(
  perPort: ReadonlyMap<string, readonly VfpDirectionCounters[]>,
  listedPorts: IncarnationSet,
  sums: MonotonicSumBySeries,
): Samples {
  const readings = new Map<string, Map<string, number>>();
  for (const [port, directions] of perPort) {
    for (const counters of directions) {
      const key = (...parts: string[]) => parts.join(SEPARATOR);
      for (const [flag, value] of Object.entries(counters.flags)) {
        addReading(readings, port, key(FLAG, flag, counters.direction), value);
      }
      for (const [reason, value] of Object.entries(counters.drops)) {
        addReading(readings, port, key(DROP, reason, counters.direction), value);
      }
      for (const [name, value] of Object.entries(counters.connections)) {
        addReading(readings, port, key(CONNECTION, name), value);
      }
    }
  }
  const tcpFlagCounters: Sample<'tcpFlagCounters'>[] = [];
  const dropCount: Sample<'dropCount'>[] = [];
  const tcpConnectionStats: Sample<'tcpConnectionStats'>[] = [];
  for (const [key, value] of sums.update(readings, listedPorts)) {
    const [kind, first, second] = key.split(SEPARATOR) as [string, string, string | undefined];
    if (kind === FLAG) {
      tcpFlagCounters.push({ labels: { [LABEL.flag]: first, [LABEL.direction]: second! }, value });
    } else if (kind === DROP) {
      dropCount.push({ labels: { [LABEL.reason]: first, [LABEL.direction]: second! }, value });
    } else {
      tcpConnectionStats.push({ labels: { [LABEL.statisticName]: first }, value });
    }
  }
  return { tcpFlagCounters, dropCount, tcpConnectionStats };
}

const BOTH_DIRECTIONS: readonly Direction[] = [DIRECTION.egress, DIRECTION.ingress];

/** The expected keys some read port lacked, as "<direction> <key>" (a whole direction lacking counts as all keys). */
export function missingKeys(ports: readonly (readonly VfpDirectionCounters[])[]): string[] {
  const missing = new Set<string>();
  for (const directions of ports) {
    for (const direction of BOTH_DIRECTIONS) {
      const counters = directions.find((read) => read.direction === direction);
      for (const key of counters ? counters.missing : EXPECTED_KEYS) missing.add(`${direction} ${key}`);
    }
  }
  return [...missing];
}

/** Runs `task` over `items`, at most `limit` at a time, keeping the order of results. */
async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The windows_vfp source; `run` runs vfpctrl (runTool by default). */
export function createWindowsVfpSource(run: ToolRunner = runTool): Source {
  let sums = new MonotonicSumBySeries();
  let failedPortsNote: string | undefined;
  return {
    name: 'windows_vfp',
    description:
      'vfpctrl port counters: TCP flags, VFP drops (ACL, ...) and TCP connection counters, summed over ports',
    platforms: ['windows'],
    metrics: ['tcpFlagCounters', 'dropCount', 'tcpConnectionStats'],
    async collect() {
      const ports = parseVfpPortList(await run(VFPCTRL, LIST_PORTS_ARGS)).filter((port) => port.kind === 'pod');
      // A port can disappear between the listing and its query (a pod deleted), or its query fail: that port is
      // skipped this time (its past counts stay in the totals); only when every port fails is the source down.
      const failures: string[] = [];
      const counters = await mapLimited(ports, CONCURRENT_QUERIES, async (port) => {
        const file = `vfpctrl /port ${port.name} /get-port-counter`;
        try {
          return parseVfpPortCounters(await run(VFPCTRL, portCounterArgs(port.name)), file);
        } catch (error) {
          failures.push(describeError(error));
          return undefined;
        }
      });
      if (ports.length > 0 && failures.length === ports.length) throw new SourceUnavailableError(failures[0]);
      const notes: string[] = [];
      if (failures.length > 0) notes.push(`${failures.length} of ${ports.length} ports not read: ${failures[0]}`);
      const missing = missingKeys(counters.filter((read) => read !== undefined));
      if (missing.length > 0) notes.push(`vfpctrl printed no ${missing.join(', ')} (not reported)`);
      failedPortsNote = notes.length > 0 ? notes.join('; ') : undefined;
      const perPort = new Map<string, VfpDirectionCounters[]>();
      ports.forEach((port, i) => {
        if (counters[i]) perPort.set(port.name, counters[i]);
      });
      return vfpSamples(perPort, new Set(ports.map((port) => port.name)), sums);
    },
    note: () => failedPortsNote,
    stop() {
      sums = new MonotonicSumBySeries();
      failedPortsNote = undefined;
      return Promise.resolve();
    },
  };
}
