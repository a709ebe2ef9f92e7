/**
 * The TCP socket table: kappie_tcp_state and kappie_tcp_connection_remote.
 *
 * Thin I/O only. The table comes from a netlink SOCK_DIAG dump (sock-diag.ts, parsed by inet-diag.ts) or from
 * /proc/net/tcp and /proc/net/tcp6 read as bytes (parsed by tcp-table.ts); both fill the same tally. --tcp-socket-reader
 * auto takes netlink when --proc-path is the live procfs (then both show the collector's own network namespace) and
 * netlink works, else the files: a --proc-path holding copies of the files is read as files.
 *
 * Either way the kernel walks every socket, so the socket count is first taken from /proc/net/sockstat{,6} (O(1)):
 * above --tcp-scan-max-sockets the per-remote tally is skipped and `note()` says so. The state counts are still
 * exported then: they need every socket too, there is no cheaper exact source for all eleven states, and counting
 * states alone costs little beyond the kernel's own walk (see README).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LABEL, OTHER_REMOTE, TCP_STATES } from '../../catalog';
import { describeError } from '../../errors';
import { readWholeFile } from '../../host-fs';
import type { Sample, Samples, Source } from '../../source';
import { parseSockstat, type Sockstat } from './sockstat';
import { tallySockDiag } from './sock-diag';
import { newTcpSocketTally, tallyTcpTable, topRemotePeers, type TcpSocketTally } from './tcp-table';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** Sockets in the TCP tables by sockstat's counters: in use (every hashed socket, listeners too) plus TIME_WAIT. */
export function tcpSocketEstimate(v4: Sockstat, v6: Sockstat | undefined): number {
  return (v4['TCP']?.['inuse'] ?? 0) + (v4['TCP']?.['tw'] ?? 0) + (v6?.['TCP6']?.['inuse'] ?? 0);
}

/** The samples of a tally: every state (zeros included) and, when peers were tallied, the top-K plus "other". */
export function tcpSocketSamples(tally: TcpSocketTally, topK: number, littleEndian: boolean): Samples {
  const samples: Samples = {
    tcpState: TCP_STATES.map((state, index) => ({ labels: { [LABEL.state]: state }, value: tally.states[index]! })),
  };
  if (tally.remotes !== undefined) {
    const peers = topRemotePeers(tally.remotes, topK, littleEndian);
    const remote: Sample<'tcpConnectionRemote'>[] = peers.top.map((peer) => ({
      labels: { [LABEL.address]: peer.address, [LABEL.port]: String(peer.port) },
      value: peer.sockets,
    }));
    remote.push({ labels: { [LABEL.address]: OTHER_REMOTE, [LABEL.port]: OTHER_REMOTE }, value: peers.otherSockets });
    samples.tcpConnectionRemote = remote;
  }
  return samples;
}

/** Reads a table as bytes, or undefined when the file does not exist (tcp6 without IPv6). */
function readTable(procPath: string, name: string): Buffer | undefined {
  try {
    return readWholeFile(path.join(procPath, 'net', name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && name === 'tcp6') return undefined;
    throw error;
  }
}

const PROC_SUPER_MAGIC = 0x9fa0;

function isLiveProcfs(procPath: string): boolean {
  try {
    return fs.statfsSync(procPath).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

function tallyProcFiles(procPath: string, tally: TcpSocketTally): void {
  for (const family of ['tcp', 'tcp6'] as const) {
    const bytes = readTable(procPath, family);
    if (bytes !== undefined) tallyTcpTable(bytes, `net/${family}`, { family, littleEndian: LITTLE_ENDIAN }, tally);
  }
}

/** The TCP socket source; its note and the netlink fallback decision live in this closure. */
export function createTcpSocketsSource(): Source {
  let lastNote: string | undefined;
  /** Why auto fell back to the files, once netlink failed (it is not tried again). */
  let netlinkUnavailable: string | undefined;
  return {
    name: 'tcp_sockets',
    description: 'netlink SOCK_DIAG or /proc/net/tcp{,6}: TCP sockets per state and the top remote peers',
    platforms: ['linux'],
    metrics: ['tcpState', 'tcpConnectionRemote'],
    collect(ctx) {
      const { tcpScanMaxSockets, tcpRemoteTopK, tcpSocketReader } = ctx.config;
      const v4Stat = parseSockstat(ctx.fs.readProc('net/sockstat'), 'net/sockstat');
      const v6Text = ctx.fs.readProcIfExists('net/sockstat6');
      const v6Stat = v6Text === undefined ? undefined : parseSockstat(v6Text, 'net/sockstat6');
      const estimate = tcpSocketEstimate(v4Stat, v6Stat);
      const tallyRemotes = estimate <= tcpScanMaxSockets;
      const skipped = tallyRemotes
        ? undefined
        : `remote peers skipped: ${estimate} sockets > --tcp-scan-max-sockets ${tcpScanMaxSockets}`;

      let tally = newTcpSocketTally(tallyRemotes);
      const auto = tcpSocketReader === 'auto';
      if (
        tcpSocketReader === 'netlink' ||
        (auto && netlinkUnavailable === undefined && isLiveProcfs(ctx.fs.procPath))
      ) {
        try {
          tallySockDiag(tally, LITTLE_ENDIAN);
        } catch (error) {
          if (!auto) throw error;
          netlinkUnavailable = describeError(error);
          ctx.log.warn(
            { source: 'tcp_sockets', err: netlinkUnavailable },
            'netlink SOCK_DIAG failed: reading /proc/net/tcp',
          );
          tally = newTcpSocketTally(tallyRemotes);
          tallyProcFiles(ctx.fs.procPath, tally);
        }
      } else {
        tallyProcFiles(ctx.fs.procPath, tally);
      }
      const fallback =
        auto && netlinkUnavailable !== undefined
          ? `netlink unavailable (${netlinkUnavailable}): read /proc/net/tcp`
          : undefined;
      lastNote = [skipped, fallback].filter((part) => part !== undefined).join('; ') || undefined;
      return tcpSocketSamples(tally, tcpRemoteTopK, LITTLE_ENDIAN);
    },
    note: () => lastNote,
  };
}
