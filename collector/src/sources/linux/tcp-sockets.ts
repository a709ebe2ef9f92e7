/**
 * The TCP socket table: kappie_tcp_state and kappie_tcp_connection_remote.
 *
 * The table comes from a netlink SOCK_DIAG dump (kernel/sock-diag.ts, parsed by kernel/inet-diag.ts) or from
 * /proc/net/tcp and /proc/net/tcp6 read as bytes (kernel/tcp-table.ts); both fill the same tally. --tcp-socket-reader
 * auto takes netlink when --proc-path is the live procfs (then both show the collector's own network namespace) and
 * netlink works, else the files: a --proc-path holding copies of the files is read as files.
 *
 * Either way the kernel walks every socket, so the socket count is first taken from /proc/net/sockstat{,6} (O(1)):
 * above --tcp-scan-max-sockets the per-remote tally is skipped and `note()` says so. The state counts are still
 * exported then: they need every socket too, there is no cheaper exact source for all eleven states, and counting
 * states alone costs little beyond the kernel's own walk (see README).
 */
import * as os from 'node:os';
import { LABEL, OTHER_REMOTE, TCP_STATES } from '../../catalog';
import { describeError } from '../../errors';
import { readSockstat, type SockstatFiles } from '../../kernel/net-sockstat';
import { createNetlink } from '../../kernel/netlink-socket';
import { tallySockDiag } from '../../kernel/sock-diag';
import {
  newTcpSocketTally,
  servicePeerCounts,
  tallyTcpTables,
  topRemotePeers,
  type TcpSocketTally,
} from '../../kernel/tcp-table';
import type { Sample, Samples, Source } from '../../source';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** Sockets in the TCP tables by sockstat's counters: in use (every hashed socket, listeners too) plus TIME_WAIT. */
export function tcpSocketEstimate({ v4, v6 }: SockstatFiles): number {
  return v4['TCP']!['inuse']! + (v4['TCP']!['tw'] ?? 0) + (v6 === undefined ? 0 : v6['TCP6']!['inuse']!);
}

/**
 * The samples of a tally: every state (zeros included) and, when peers were tallied, the top-K peers plus "other",
 * keyed by remote address and service port (see `servicePeerCounts`: inbound sockets by the local listening port).
 */
export function tcpSocketSamples(tally: TcpSocketTally, topK: number, littleEndian: boolean): Samples {
  const samples: Samples = {
    tcpState: TCP_STATES.map((state, index) => ({ labels: { [LABEL.state]: state }, value: tally.states[index]! })),
  };
  if (tally.peers !== undefined) {
    const peers = topRemotePeers(servicePeerCounts(tally), topK, littleEndian);
    const remote: Sample<'tcpConnectionRemote'>[] = peers.top.map((peer) => ({
      labels: { [LABEL.address]: peer.address, [LABEL.port]: String(peer.port) },
      value: peer.sockets,
    }));
    remote.push({ labels: { [LABEL.address]: OTHER_REMOTE, [LABEL.port]: OTHER_REMOTE }, value: peers.otherSockets });
    samples.tcpConnectionRemote = remote;
  }
  return samples;
}

/** The TCP socket source; its netlink client, note and fallback decision live in this closure. */
export function createTcpSocketsSource(): Source {
  const netlink = createNetlink();
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
      const estimate = tcpSocketEstimate(readSockstat(ctx.fs));
      const tallyRemotes = estimate <= tcpScanMaxSockets;
      const skipped = tallyRemotes
        ? undefined
        : `remote peers skipped: ${estimate} sockets > --tcp-scan-max-sockets ${tcpScanMaxSockets}`;

      let tally = newTcpSocketTally(tallyRemotes);
      const auto = tcpSocketReader === 'auto';
      if (tcpSocketReader === 'netlink' || (auto && netlinkUnavailable === undefined && ctx.fs.procIsLive())) {
        try {
          tallySockDiag(netlink, tally, LITTLE_ENDIAN);
        } catch (error) {
          if (!auto) throw error;
          netlinkUnavailable = describeError(error);
          ctx.log.warn({ err: netlinkUnavailable }, 'netlink SOCK_DIAG failed: reading /proc/net/tcp');
          tally = newTcpSocketTally(tallyRemotes);
          tallyTcpTables(ctx.fs, tally, LITTLE_ENDIAN);
        }
      } else {
        tallyTcpTables(ctx.fs, tally, LITTLE_ENDIAN);
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
