/**
 * Drops the skb:kfree_skb tracepoint never names, added to the tracefs events strategy from the kernel's own counters,
 * so that a drop the kernel counts reaches kappie_drop_count once whichever strategy counts.
 *
 * The tracefs strategy sees packets freed with kfree_skb_reason() (a reason other than SKB_CONSUMED). A drop freed with
 * consume_skb() is invisible to it, while the kernel counters strategy (counters.ts) counts it through its counter.
 * Survey of the counters that strategy reads, against the kernel's code (net-next of 2025/2026; names are the
 * /proc/net/{snmp,netstat} columns), what kfree_skb sees of each:
 *
 * Seen with a reason (adding the counter would count the drop twice):
 *  - Udp NoPorts / InCsumErrors / RcvbufErrors: __udp4_lib_rcv and __udp_queue_rcv_skb free the datagram with
 *    NO_SOCKET, UDP_CSUM, SOCKET_RCVBUFF or PROTO_MEM (and the Udp6 twins in net/ipv6/udp.c).
 *  - Ip InHdrErrors, InAddrErrors, InUnknownProtos, InDiscards, IpExt InCsumErrors: ip_rcv_core, ip_error and
 *    ip_protocol_deliver_rcu free with IP_INHDR, IP_CSUM, IP_INADDRERRORS/IP_INNOROUTES, IP_NOPROTO.
 *  - Tcp InCsumErrors (TCP_CSUM); TcpExt TCPBacklogDrop (tcp_add_backlog: SOCKET_BACKLOG), TCPRcvQDrop
 *    (tcp_data_queue: PROTO_MEM), TCPZeroWindowDrop (TCP_ZEROWINDOW), TCPMinTTLDrop (TCP_MINTTL), PFMemallocDrop
 *    (PFMEMALLOC).
 *  - softnet_stat dropped: enqueue_to_backlog frees with CPU_BACKLOG.
 *  - nf_conntrack drop / insert_failed: nf_conntrack_in and __nf_conntrack_confirm return NF_DROP, which nf_hook_slow
 *    frees with NETFILTER_DROP.
 *  - /proc/net/dev rx/tx drop: the core's own increments free with a reason (UNHANDLED_PROTO in
 *    __netif_receive_skb_core, QDISC_DROP, ...); the rest are driver counters of frames that are either freed
 *    with kfree_skb (NOT_SPECIFIED) or never became an skb (rx_missed_errors, which /proc/net/dev adds into its rx
 *    drop column). They cannot be told apart from the total, so the total is not added.
 *
 * Not seen:
 *  - TcpExt ListenDrops on the SYN path. tcp_rcv_state_process (TCP_LISTEN) hands a SYN to conn_request and then
 *    frees it with consume_skb() whatever conn_request did; tcp_conn_request's `drop:` label (accept queue full,
 *    which also counts ListenOverflows; SYN queue full without syncookies, which also counts TCPReqQFullDrop; request
 *    allocation failure; no route back) and tcp_v4_conn_request's broadcast/multicast check only call
 *    tcp_listendrop(), which counts ListenDrops. So a full accept queue grows ListenDrops and no kfree_skb event.
 *    The ACK path does have a reason: tcp_v4_syn_recv_sock's failure (accept queue full) also calls tcp_listendrop(),
 *    and tcp_check_req's `listen_overflow:` sets TCP_LISTEN_OVERFLOW (Linux 6.15+; earlier kernels free that ACK as
 *    NOT_SPECIFIED), so those drops are events already and are subtracted (below).
 *
 * The series: TCP_LISTEN_SYN_DROP = ListenDrops' growth since the events strategy started minus the growth of the
 * TCP_LISTEN_OVERFLOW events over the same time, never decreasing. Known limits, both from the tracepoint seeing every
 * network namespace while the counters are the collector's namespace's:
 *  - TCP_LISTEN_OVERFLOW events of other namespaces (pods) are subtracted too: while pods overflow on the ACK path and
 *    the node's own listeners on the SYN path at the same time, TCP_LISTEN_SYN_DROP undercounts by up to those
 *    events (never counts twice). A pod's SYN-path drops are in its own namespace's ListenDrops, which neither
 *    strategy reads.
 *  - On kernels before 6.15 the node's ACK-path drops are NOT_SPECIFIED events and in ListenDrops: counted twice.
 */
import { DIRECTION, LABEL, type Direction } from '../../../catalog';
import type { HostFs } from '../../../kernel/host-fs';
import { readNetNetstat, type SnmpTables } from '../../../kernel/net-snmp';
import type { Sample } from '../../../source';

/** One kernel counter (sum) whose drops the tracepoint sees only in part, and the reasons of the part it sees. */
export interface UntracedDropRow {
  /** The reason exported for the part the tracepoint does not see. */
  readonly reason: string;
  readonly direction: Direction;
  /** The counter, for the README: where the number comes from. */
  readonly from: string;
  /** Reasons of the events that the counter also counts (subtracted). */
  readonly tracedAs: readonly string[];
  /** The counter's value in /proc/net/netstat, undefined when this kernel lacks it. */
  readonly counter: (netstat: SnmpTables) => number | undefined;
}

/** The documented table (README, "Drops the tracepoint never names"). */
export const UNTRACED_DROP_ROWS: readonly UntracedDropRow[] = [
  {
    reason: 'TCP_LISTEN_SYN_DROP',
    direction: DIRECTION.ingress,
    from: 'TcpExt ListenDrops minus TCP_LISTEN_OVERFLOW events',
    tracedAs: ['TCP_LISTEN_OVERFLOW'],
    counter: (netstat) => netstat.get('TcpExt')?.get('ListenDrops'),
  },
];

interface RowState {
  readonly counterAtStart: number;
  readonly tracedAtStart: number;
  value: number;
}

/** The untraced part of each row, given the counters and the events' own series. */
export interface UntracedDrops {
  /**
   * One drop_count series per row whose counter this kernel has: growth of the counter since the first call minus
   * growth of its traced reasons in `events` (kappie_drop_count of the events strategy, every direction), never
   * decreasing. Pure given the counters read; the first call sets the starting point (its values are 0).
   */
  samples(netstat: SnmpTables, events: readonly Sample<'dropCount'>[]): Sample<'dropCount'>[];
}

function tracedTotal(events: readonly Sample<'dropCount'>[], reasons: readonly string[]): number {
  let total = 0;
  for (const event of events) if (reasons.includes(event.labels[LABEL.reason])) total += event.value;
  return total;
}

/** The untraced drops of one run of the events strategy (create it when the strategy starts). */
export function createUntracedDrops(rows: readonly UntracedDropRow[] = UNTRACED_DROP_ROWS): UntracedDrops {
  const states = new Map<UntracedDropRow, RowState>();
  return {
    samples(netstat, events) {
      const out: Sample<'dropCount'>[] = [];
      for (const row of rows) {
        const counter = row.counter(netstat);
        if (counter === undefined) continue;
        const traced = tracedTotal(events, row.tracedAs);
        let state = states.get(row);
        if (state === undefined) {
          state = { counterAtStart: counter, tracedAtStart: traced, value: 0 };
          states.set(row, state);
        }
        const untraced = counter - state.counterAtStart - (traced - state.tracedAtStart);
        state.value = Math.max(state.value, untraced);
        out.push({ labels: { [LABEL.reason]: row.reason, [LABEL.direction]: row.direction }, value: state.value });
      }
      return out;
    },
  };
}

/** Reads /proc/net/netstat under --proc-path (throws read and parse errors). */
export function readUntracedCounters(fs: HostFs): SnmpTables {
  return readNetNetstat(fs);
}
