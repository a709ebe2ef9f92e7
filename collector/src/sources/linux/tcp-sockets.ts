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
import { LABEL, TCP_STATES } from '../../catalog';
import { describeError } from '../../errors';
import type { SockstatFiles } from '../../kernel/net-sockstat';
import { createNetlink, type Netlink } from '../../kernel/netlink-socket';
import { createSockDiagReader, type SockDiagReader } from '../../kernel/sock-diag';
import { newTcpSocketTally, tallyTcpTables, type TcpSocketTally } from '../../kernel/tcp-table';
import type { Samples, Source, SourceContext } from '../../source';
import { tcpConnectionRemoteSamples } from '../tcp-connection-remote';
import { sockstatOnce } from './procfs-reads';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** Sockets in the TCP tables by sockstat's counters: in use (every hashed socket, listeners too) plus TIME_WAIT. */
export function tcpSocketEstimate({ v4, v6 }: SockstatFiles): number {
  return v4['TCP']!['inuse']! + (v4['TCP']!['tw'] ?? 0) + (v6 === undefined ? 0 : v6['TCP6']!['inuse']!);
}

/**
 * The samples of a tally: every state (zeros included) and, when peers were tallied, the top-K peers plus "other",
 * keyed by remote address and service port (remote-peers.ts `servicePeerCounts`: inbound sockets by the local
 * listening port).
 */
export function tcpSocketSamples(tally: TcpSocketTally, topK: number, littleEndian: boolean): Samples {
  const samples: Samples = {
    tcpState: TCP_STATES.map((state, index) => ({ labels: { [LABEL.state]: state }, value: tally.states[index]! })),
  };
  const remote = tcpConnectionRemoteSamples(tally, topK, littleEndian);
  if (remote !== undefined) samples.tcpConnectionRemote = remote;
  return samples;
}

/** Whether remote peers are tallied (the socket count estimate is within --tcp-scan-max-sockets), and that count. */
interface PeerPlan {
  readonly tallyRemotes: boolean;
  readonly estimate: number;
}

/** A sock_diag tally a prefetch started: complete once `finished` resolves to undefined (else to the error). */
interface PrefetchedTally extends PeerPlan {
  readonly tally: TcpSocketTally;
  readonly finished: Promise<unknown>;
}

function peerPlan(ctx: SourceContext): PeerPlan {
  const estimate = tcpSocketEstimate(sockstatOnce(ctx));
  return { tallyRemotes: estimate <= ctx.config.tcpScanMaxSockets, estimate };
}

/**
 * The TCP socket source; its netlink client, note and fallback decision live in this closure.
 *
 * Over netlink the dump is prefetched (Source.prefetch): worker threads make the kernel's walk of the socket tables
 * (~1 ms whatever the socket count) while the other sources collect, and collect() waits for it and makes the
 * samples. When an off-thread dump fails, the gathering dumps on the main thread instead; if that works (so the
 * failure was the worker threads': koffi without asynchronous calls, an unknown architecture), the source dumps on the
 * main thread from then on and says why once in the log. `netlinkFor` makes the netlink client (tests give their own).
 */
export function createTcpSocketsSource(
  netlinkFor: (procPath: string) => Netlink = (procPath) => createNetlink({ procPath }),
): Source {
  /** Made at the first netlink read: its sockets open in the namespace of the configured proc root. */
  let netlink: Netlink | undefined;
  let sockDiag: SockDiagReader | undefined;
  let lastNote: string | undefined;
  /** Why auto fell back to the files, once netlink failed (it is not tried again). */
  let netlinkUnavailable: string | undefined;
  /** Why the dump is no longer made off the main thread, once that failed. */
  let offThreadUnavailable: string | undefined;
  /** The dump the current gathering's prefetch started, taken by its collect. */
  let prefetched: PrefetchedTally | undefined;

  const readsNetlink = (ctx: SourceContext) =>
    ctx.config.tcpSocketReader === 'netlink' ||
    (ctx.config.tcpSocketReader === 'auto' && netlinkUnavailable === undefined && ctx.fs.procIsLive());
  const reader = (ctx: SourceContext) => (sockDiag ??= createSockDiagReader((netlink ??= netlinkFor(ctx.fs.procPath))));

  /** A tally made now, on this thread: netlink (falling back to the files in auto mode) or the files. */
  const tallyNow = (ctx: SourceContext, tallyRemotes: boolean): TcpSocketTally => {
    const tally = newTcpSocketTally(tallyRemotes);
    if (!readsNetlink(ctx)) {
      tallyTcpTables(ctx.fs, tally, LITTLE_ENDIAN);
      return tally;
    }
    try {
      reader(ctx).tally(tally, LITTLE_ENDIAN);
      return tally;
    } catch (error) {
      if (ctx.config.tcpSocketReader !== 'auto') throw error;
      netlinkUnavailable = describeError(error);
      ctx.log.warn({ err: netlinkUnavailable }, 'netlink SOCK_DIAG failed: reading /proc/net/tcp');
      const fromFiles = newTcpSocketTally(tallyRemotes);
      tallyTcpTables(ctx.fs, fromFiles, LITTLE_ENDIAN);
      return fromFiles;
    }
  };

  /** The samples of a finished tally, and the note that says what was skipped or fallen back from. */
  const samplesOf = (ctx: SourceContext, tally: TcpSocketTally, plan: PeerPlan): Samples => {
    const skipped = plan.tallyRemotes
      ? undefined
      : `remote peers skipped: ${plan.estimate} sockets > --tcp-scan-max-sockets ${ctx.config.tcpScanMaxSockets}`;
    const fallback =
      ctx.config.tcpSocketReader === 'auto' && netlinkUnavailable !== undefined
        ? `netlink unavailable (${netlinkUnavailable}): read /proc/net/tcp`
        : undefined;
    lastNote = [skipped, fallback].filter((part) => part !== undefined).join('; ') || undefined;
    return tcpSocketSamples(tally, ctx.config.tcpRemoteTopK, LITTLE_ENDIAN);
  };

  /** A gathering without a prefetched dump: everything now (synchronous). */
  const collectNow = (ctx: SourceContext): Samples => {
    const plan = peerPlan(ctx);
    return samplesOf(ctx, tallyNow(ctx, plan.tallyRemotes), plan);
  };

  return {
    name: 'tcp_sockets',
    description: 'netlink SOCK_DIAG or /proc/net/tcp{,6}: TCP sockets per state and the top remote peers',
    platforms: ['linux'],
    metrics: ['tcpState', 'tcpConnectionRemote'],
    prefetch(ctx) {
      prefetched = undefined;
      if (offThreadUnavailable !== undefined || !readsNetlink(ctx)) return;
      try {
        const { tallyRemotes, estimate } = peerPlan(ctx);
        const tally = newTcpSocketTally(tallyRemotes);
        const finished = reader(ctx)
          .tallyOffThread(tally, LITTLE_ENDIAN)
          .then(
            () => undefined,
            (error: unknown) => error ?? new Error('off-thread dump failed'),
          );
        prefetched = { tally, tallyRemotes, estimate, finished };
      } catch {
        // collect() does the work itself and reports what fails there.
      }
    },
    collect(ctx) {
      const started = prefetched;
      prefetched = undefined;
      if (started === undefined) return collectNow(ctx);
      return started.finished.then((error) => {
        if (error === undefined) return samplesOf(ctx, started.tally, started);
        // Throws when the main thread fails alike: then the failure was not the worker threads'.
        const samples = collectNow(ctx);
        offThreadUnavailable = describeError(error);
        ctx.log.warn({ err: offThreadUnavailable }, 'netlink SOCK_DIAG off the main thread failed: dumping on it');
        return samples;
      });
    },
    note: () => lastNote,
    stop() {
      // The socket kept between dumps (netlink-socket.ts); a restarted source opens a new one.
      netlink?.close();
      return Promise.resolve();
    },
  };
}
