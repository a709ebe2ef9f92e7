/**
 * The Virtual Filtering Platform (VFP) port counters of the Hyper-V switch, per switch port, summed over the ports:
 * `vfpctrl /list-vmswitch-port /format 1` lists the ports, `vfpctrl /port <name> /get-port-counter /format 1` gives
 * each port's counters per direction as JSON. Fills
 * - kappie_tcp_flag_counters{flag,direction}: SYN, SYNACK, FIN, RST packets;
 * - kappie_drop_count{reason,direction}: the port's Dropped<Reason> counters (reason Vfp<Reason>, e.g. VfpAcl), and
 *   VfpOther for drops the port counts in DroppedPackets but under no specific reason;
 * - kappie_tcp_connection_stats: VFP's TCP connection tracking (verified, reset, half-open timeouts, ...), named as
 *   the vfpctrl JSON names them plus In/Out for the direction (the names HNS gives the same counters).
 *
 * Node values are SUMS over ports (Retina's Windows agent sets each port's value in turn, so its "node" value is the
 * last port read), kept monotonic while ports come and go with pods: one MonotonicSum whose members are the ports,
 * keyed by port name (a GUID per endpoint). A port stays remembered while vfpctrl lists it, however many gatherings
 * its counter query fails, so when the query works again only its growth is added; a port no longer listed is
 * forgotten. The host's external (uplink) port is left out: a pod's packet to the outside world crosses its own port
 * and then the external port, and would count twice.
 */
import { DIRECTION, LABEL, type Direction, type TcpFlag } from '../../catalog';
import { describeError, ParseError, SourceUnavailableError } from '../../errors';
import { addReading, MonotonicSumBySeries, type IncarnationSet } from '../../monotonic-sum';
import type { Sample, Samples, Source } from '../../source';
import { runTool, type ToolRunner } from './command';
import { asObjectList, counterValue, isObject, parseToolJson } from './json-output';

const VFPCTRL = 'vfpctrl.exe';
export const LIST_PORTS_ARGS = ['/list-vmswitch-port', '/format', '1'];
export function portCounterArgs(portName: string): string[] {
  return ['/port', portName, '/get-port-counter', '/format', '1'];
}
/** Ports queried at once: vfpctrl is quick, but a node with many pods should not start a process per pod at once. */
const CONCURRENT_QUERIES = 4;

export interface VfpPort {
  /** The port name vfpctrl takes in /port (a GUID). */
  readonly name: string;
  /** The friendly name (e.g. "Container NIC 1a2b3c4d", or the external port). */
  readonly friendlyName: string;
}

/** Decodes `vfpctrl /list-vmswitch-port /format 1`: `{ "Ports": [ { "Name": <guid>, "Id": <friendly name>, ... } ] }`. */
export function parseVfpPortList(text: string, file = 'vfpctrl /list-vmswitch-port'): VfpPort[] {
  const document = parseToolJson(text, file);
  if (document === undefined) return [];
  if (!isObject(document)) throw new ParseError(file, 'expected a JSON object with a Ports list');
  return asObjectList(document['Ports'], file, 'Ports').map((port, index) => {
    const name = port['Name'];
    if (typeof name !== 'string' || name === '') throw new ParseError(file, `Ports[${index}] has no Name`);
    return { name, friendlyName: typeof port['Id'] === 'string' ? port['Id'] : '' };
  });
}

/** The external port: its traffic is the pods' and host's traffic again, on its way to the wire. */
export function isExternalPort(port: VfpPort): boolean {
  return /external/i.test(port.friendlyName);
}

/**
 * TCP flag counters. FIN and RST key names are those a Microsoft Windows-node network script reads from this JSON;
 * the SYN and SYN-ACK names follow the same pattern (TcpSyn..., TcpSynAck...) and were not seen in a recorded output.
 */
export const VFP_FLAG_KEYS: Readonly<Record<string, TcpFlag>> = {
  TcpSynPackets: 'SYN',
  TcpSynAckPackets: 'SYNACK',
  TcpFinPackets: 'FIN',
  TcpResetPackets: 'RST',
};

/** VFP TCP connection tracking counters exported as tcp_connection_stats (with an In/Out suffix). */
export const VFP_CONNECTION_KEYS = [
  'TcpConnectionsVerified',
  'TcpConnectionsTimedOut',
  'TcpConnectionsResets',
  'TcpConnectionsResetHalfTTL',
  'TcpConnectionsResetBySyn',
  'TcpConnectionsResetByInjectedReset',
  'TcpConnectionsClosedByFin',
  'TcpHalfOpenTimeouts',
] as const;

const DROPPED_TOTAL_KEY = 'DroppedPackets';
const DROPPED_REASON_KEY = /^Dropped([A-Z][A-Za-z0-9]*)$/;
export const VFP_OTHER_DROPS_REASON = 'VfpOther';

export interface VfpDirectionCounters {
  readonly direction: Direction;
  readonly flags: Partial<Record<TcpFlag, number>>;
  /** reason (VfpAcl, ..., VfpOther) -> packets */
  readonly drops: Record<string, number>;
  /** statistic_name (TcpConnectionsVerifiedIn, ...) -> count */
  readonly connections: Record<string, number>;
}

/** `Direction` in PortCounters: 0 is egress (OUT of the port towards the switch), 1 ingress (IN, towards the vNIC). */
function directionOf(value: unknown, file: string, index: number): Direction {
  if (value === 0 || value === 'OUT' || value === 'EGRESS') return DIRECTION.egress;
  if (value === 1 || value === 'IN' || value === 'INGRESS') return DIRECTION.ingress;
  throw new ParseError(file, `PortCounters[${index}].Direction: expected 0 or 1, got ${JSON.stringify(value)}`);
}

/** Decodes `vfpctrl /port <name> /get-port-counter /format 1`: `{ "InformationArray": [ { "PortCounters": [...] } ] }`. */
export function parseVfpPortCounters(text: string, file = 'vfpctrl /get-port-counter'): VfpDirectionCounters[] {
  const document = parseToolJson(text, file);
  if (document === undefined) return [];
  if (!isObject(document)) throw new ParseError(file, 'expected a JSON object with an InformationArray');
  const result: VfpDirectionCounters[] = [];
  let index = 0;
  for (const information of asObjectList(document['InformationArray'], file, 'InformationArray')) {
    for (const counters of asObjectList(information['PortCounters'], file, 'PortCounters')) {
      const direction = directionOf(counters['Direction'], file, index);
      const suffix = direction === DIRECTION.ingress ? 'In' : 'Out';
      const read = (key: string) => counterValue(counters[key], file, () => `PortCounters[${index}].${key}`);
      const flags: Partial<Record<TcpFlag, number>> = {};
      for (const [key, flag] of Object.entries(VFP_FLAG_KEYS)) if (key in counters) flags[flag] = read(key);
      const connections: Record<string, number> = {};
      for (const key of VFP_CONNECTION_KEYS) if (key in counters) connections[`${key}${suffix}`] = read(key);
      const drops: Record<string, number> = {};
      let classified = 0;
      for (const key of Object.keys(counters)) {
        const match = DROPPED_REASON_KEY.exec(key);
        if (!match || key === DROPPED_TOTAL_KEY) continue;
        const packets = read(key);
        drops[`Vfp${match[1]!}`] = packets;
        classified += packets;
      }
      if (DROPPED_TOTAL_KEY in counters) {
        drops[VFP_OTHER_DROPS_REASON] = Math.max(0, read(DROPPED_TOTAL_KEY) - classified);
      }
      result.push({ direction, flags, drops, connections });
      index++;
    }
  }
  return result;
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
      const ports = parseVfpPortList(await run(VFPCTRL, LIST_PORTS_ARGS)).filter((port) => !isExternalPort(port));
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
      failedPortsNote =
        failures.length > 0 ? `${failures.length} of ${ports.length} ports not read: ${failures[0]}` : undefined;
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
