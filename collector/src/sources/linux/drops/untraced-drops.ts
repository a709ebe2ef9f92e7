/**
 * Drops the skb:kfree_skb tracepoint never names, added to the tracefs events strategy from the kernel's own counters,
 * so that a drop the kernel counts reaches kappie_drop_count once whichever strategy counts.
 *
 * The tracefs strategy sees packets freed with kfree_skb_reason() (a reason other than SKB_CONSUMED). A drop freed with
 * consume_skb(), or refused before any packet buffer existed, is invisible to it, while the kernel counters strategy
 * (counters.ts) counts it through its counter. Survey of the counters that strategy reads, against the kernel's code
 * (net-next of 2025/2026; names are the /proc/net/{snmp,snmp6,netstat} columns and struct rtnl_link_stats64 fields),
 * what kfree_skb sees of each:
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
 *  - /proc/net/dev rx/tx drop, except rx_missed_errors (below): the core's own increments free with a reason
 *    (UNHANDLED_PROTO in __netif_receive_skb_core, also for rx_nohandler; QDISC_DROP, ...); the driver's own
 *    rx_dropped/tx_dropped are frames either freed with kfree_skb (NOT_SPECIFIED) or never allocated (a failed buffer
 *    allocation): they cannot be told apart, so they are not added.
 *
 * Seen in part (the counter's growth minus the events of the reasons it also counts is added):
 *  - Ip OutNoRoutes, Ip6OutNoRoutes: a locally generated packet without a route. Most increments happen before any
 *    packet buffer exists, and the caller gets ENETUNREACH: udp_sendmsg after ip_route_output_flow fails, __ip4_datagram_connect (connect() of a datagram socket), tcp_v4_connect,
 *    inet_csk_route_req / inet_csk_route_child_sock (no route for a SYN-ACK or a child socket: that SYN is also in
 *    ListenDrops), and for IPv6 ip6_dst_lookup_tail under every ip6_dst_lookup_flow caller (udpv6_sendmsg,
 *    rawv6_sendmsg, tcp_v6_connect, ip6_datagram_connect, inet6_csk_route_req). No kfree_skb event. The rest do free a
 *    packet: __ip_queue_xmit's `no_route:` (a TCP segment of a connection whose route went away) and inet6_csk_xmit
 *    with IP_OUTNOROUTES, ip6_pkt_discard_out/ip6_pkt_prohibit_out (ip6_pkt_drop) with IP_OUTNOROUTES (Linux 6.0+),
 *    ip6_finish_output2 (no neighbour entry could be created) with NEIGH_CREATEFAIL: those events are subtracted.
 *    __ip_queue_xmit and inet6_csk_xmit free the packet before skb->protocol is set (ip_output sets it), so the
 *    collector's in-kernel filter (protocol != 0, kfree-skb.ts) never counts those events: they stay in this row.
 *
 * Not seen:
 *  - TcpExt ListenDrops on the SYN path. tcp_rcv_state_process (TCP_LISTEN) hands a SYN to conn_request and then
 *    frees it with consume_skb() whatever conn_request did; tcp_conn_request's `drop:` label (accept queue full,
 *    which also counts ListenOverflows; SYN queue full without syncookies, which also counts TCPReqQFullDrop; request
 *    allocation failure; no route back) and tcp_v4_conn_request's broadcast/multicast check only call
 *    tcp_listendrop(), which counts ListenDrops. So a full accept queue grows ListenDrops and no kfree_skb event.
 *    The ACK path does have a reason: tcp_v4_syn_recv_sock's failure (accept queue full) also calls tcp_listendrop(),
 *    and tcp_check_req's `listen_overflow:` sets TCP_LISTEN_OVERFLOW (Linux 6.15+; earlier kernels free that ACK as
 *    NOT_SPECIFIED), so those drops are events already and are subtracted.
 *  - rx_missed_errors of each interface (IFLA_STATS64; /proc/net/dev folds it into its rx drop column,
 *    dev_seq_printf_stats): frames the NIC dropped for lack of receive buffers (include/uapi/linux/if_link.h), which
 *    never became an skb. A bond's counters are the sum of its slaves' (bond_get_stats folds every field), so bonds are
 *    left out of the sum; team, bridge, vlan, macvlan and hv_netvsc do not fold their lower devices' rx_missed_errors.
 *    Not added: rx_fifo_errors and rx_over_errors (their own /proc/net/dev columns, not in its drop column; if_link.h:
 *    overflow EVENTS, "may not correspond one-to-one with dropped packets"), rx_crc/frame/length errors (damaged
 *    frames, errors rather than drops; not in the counters strategy either).
 *
 * Each row: its counter's growth since the events strategy started minus the growth of its traced reasons' events
 * over the same time, never decreasing. Known limits, all from the tracepoint seeing every network namespace while the
 * counters are the collector's namespace's:
 *  - Events of other namespaces (pods) with a subtracted reason are subtracted too: while pods have such drops and the
 *    node has untraced ones at the same time, the row undercounts by up to those events (never counts twice).
 *  - On kernels before 6.15 the node's ACK-path listen overflows are NOT_SPECIFIED events and in ListenDrops; before
 *    6.0 ip6_pkt_drop freed with NOT_SPECIFIED: counted twice there.
 *  - A SYN whose SYN-ACK has no route back is in ListenDrops and OutNoRoutes: counted twice, in both strategies.
 *    ip6_route_me_harder (a netfilter output reroute without a route) counts Ip6OutNoRoutes for a packet that
 *    nf_hook_slow then frees with NETFILTER_DROP: counted twice in this strategy.
 */
import { DIRECTION, LABEL, type Direction } from '../../../catalog';
import type { SnmpTables } from '../../../kernel/net-snmp';
import type { Snmp6Counters } from '../../../kernel/net-snmp6';
import type { RtnetlinkLink } from '../../../kernel/rtnetlink-link';
import type { Sample } from '../../../source';
import { netNetstatOnce, netSnmp6Once, netSnmpOnce, type GatheringFiles } from '../procfs-reads';

/** The kernel counters the rows read, as parsed from the collector's namespace. */
export interface UntracedCounters {
  readonly snmp: SnmpTables;
  readonly netstat: SnmpTables;
  /** /proc/net/snmp6, undefined without IPv6. */
  readonly snmp6: Snmp6Counters | undefined;
  /** rx_missed_errors summed over the links (see rxMissedErrors), undefined when the link dump cannot be read. */
  readonly rxMissedErrors: number | undefined;
}

/** One kernel counter (sum) whose drops the tracepoint sees only in part, and the reasons of the part it sees. */
export interface UntracedDropRow {
  /** The reason exported for the part the tracepoint does not see. */
  readonly reason: string;
  readonly direction: Direction;
  /** The counter, for the README: where the number comes from. */
  readonly from: string;
  /** Reasons of the events that the counter also counts (subtracted). */
  readonly tracedAs: readonly string[];
  /** The counter's value (packets), undefined when this kernel or node lacks it. */
  readonly counter: (counters: UntracedCounters) => number | undefined;
}

/** The sum of the two values that exist, undefined when neither does (the IPv4 and IPv6 counters of one kind). */
function sumOfPresent(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : a + b;
}

/** The documented table (README, "Drops the tracepoint never names"). */
export const UNTRACED_DROP_ROWS: readonly UntracedDropRow[] = [
  {
    reason: 'TCP_LISTEN_SYN_DROP',
    direction: DIRECTION.ingress,
    from: 'TcpExt ListenDrops minus TCP_LISTEN_OVERFLOW events',
    tracedAs: ['TCP_LISTEN_OVERFLOW'],
    counter: ({ netstat }) => netstat.get('TcpExt')?.get('ListenDrops'),
  },
  {
    reason: 'IP_OUTNOROUTES_UNTRACED',
    direction: DIRECTION.egress,
    from: 'Ip OutNoRoutes + Ip6OutNoRoutes minus IP_OUTNOROUTES and NEIGH_CREATEFAIL events',
    tracedAs: ['IP_OUTNOROUTES', 'NEIGH_CREATEFAIL'],
    counter: ({ snmp, snmp6 }) => sumOfPresent(snmp.get('Ip')?.get('OutNoRoutes'), snmp6?.get('Ip6OutNoRoutes')),
  },
  {
    reason: 'NETDEV_RX_MISSED',
    direction: DIRECTION.ingress,
    from: 'rx_missed_errors of every link but bonds (rtnetlink IFLA_STATS64)',
    tracedAs: [],
    counter: ({ rxMissedErrors }) => rxMissedErrors,
  },
];

/**
 * rx_missed_errors (IFLA_STATS64) summed over `links`, leaving out bonds, whose counters fold their slaves'. Links
 * without 64-bit statistics add nothing. A number: u64 counters beyond 2^53 lose precision, not meaning.
 */
export function rxMissedErrors(links: readonly Pick<RtnetlinkLink, 'kind' | 'stats64'>[]): number {
  let total = 0;
  // An index loop: every link (a thousand pod veths) at every events gathering, and without TurboFan a for...of
  // allocates per element.
  for (let i = 0; i < links.length; i++) {
    const link = links[i]!;
    if (link.kind === 'bond' || link.stats64 === undefined) continue;
    total += Number(link.stats64.rx_missed_errors);
  }
  return total;
}
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
  samples(counters: UntracedCounters, events: readonly Sample<'dropCount'>[]): Sample<'dropCount'>[];
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
    samples(counters, events) {
      const out: Sample<'dropCount'>[] = [];
      for (const row of rows) {
        const counter = row.counter(counters);
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

/**
 * Reads the procfs counters under --proc-path, once per gathering (procfs-reads.ts: the snmp source and the instance
 * guard read them too; throws read and parse errors); `links` is the collector namespace's link dump, undefined when
 * it cannot be read (NETDEV_RX_MISSED is then absent).
 */
export function readUntracedCounters(
  ctx: GatheringFiles,
  links: readonly RtnetlinkLink[] | undefined,
): UntracedCounters {
  return {
    snmp: netSnmpOnce(ctx),
    netstat: netNetstatOnce(ctx),
    snmp6: netSnmp6Once(ctx),
    rxMissedErrors: links === undefined ? undefined : rxMissedErrors(links),
  };
}
