/**
 * Where a packet died, turned into a direction, and (on kernels without `reason`) into a derived reason.
 *
 * The kfree_skb tracepoint records `location`: the return address inside the function that freed the packet. These
 * tables name those functions. They are the documented contract of `kappie_drop_count{direction}` (README, "Drops
 * by reason"): a function absent from every table gives `unknown`, never a guess.
 *
 * Order of decisions (see `dropDirection`):
 *  1. the reason alone, when it can only happen on one path (QDISC_* can only be egress, TC_INGRESS only ingress);
 *  2. the function the packet died in;
 *  3. for netfilter drops (nf_hook_slow serves every hook), the kernel stack recorded for that event: the first
 *     frame that names a path (ip_local_deliver -> ingress, __ip_local_out -> egress, ...);
 *  4. `unknown`.
 *
 * Forwarded packets (ip_forward, ip6_forward, the FORWARD hook) count as ingress: they were received by this node
 * and died before they were sent on. From ip_output/neigh/qdisc on they count as egress.
 */
import { DIRECTION, type Direction } from '../../../catalog';

/** Reasons that happen on one path only. Reasons not listed are decided by location. */
const EGRESS_REASONS = new Set([
  'IP_OUTNOROUTES',
  'BPF_CGROUP_EGRESS',
  'NEIGH_CREATEFAIL',
  'NEIGH_FAILED',
  'NEIGH_QUEUEFULL',
  'NEIGH_DEAD',
  'NEIGH_HH_FILLFAIL',
  'TC_EGRESS',
  'QDISC_DROP',
  'QDISC_OVERLIMIT',
  'QDISC_CONGESTED',
  'CAKE_FLOOD',
  'FQ_BAND_LIMIT',
  'FQ_HORIZON_LIMIT',
  'FQ_FLOW_LIMIT',
  'DUALPI2_STEP_DROP',
  'TAP_TXFILTER',
  'NO_TX_TARGET',
  'PSP_OUTPUT',
]);

const INGRESS_REASONS = new Set([
  'NO_SOCKET',
  'SOCKET_RCVBUFF',
  'SOCKET_BACKLOG',
  'PKT_TOO_SMALL',
  'TCP_CSUM',
  'UDP_CSUM',
  'ICMP_CSUM',
  'IP_CSUM',
  'IP_INHDR',
  'IP_RPFILTER',
  'OTHERHOST',
  'UNICAST_IN_L2_MULTICAST',
  'IP_NOPROTO',
  'IP_INADDRERRORS',
  'IP_INNOROUTES',
  'IP_LOCAL_SOURCE',
  'IP_INVALID_SOURCE',
  'IP_LOCALNET',
  'IP_INVALID_DEST',
  'TC_INGRESS',
  'CPU_BACKLOG',
  'XDP',
  'DUP_FRAG',
  'FRAG_REASM_TIMEOUT',
  'FRAG_TOO_FAR',
  'TCP_MINTTL',
  'IPV6_BAD_EXTHDR',
  'VXLAN_INVALID_HDR',
  'VXLAN_VNI_NOT_FOUND',
  'MAC_INVALID_SOURCE',
  'BRIDGE_INGRESS_STP_STATE',
  'CAN_RX_INVALID_FRAME',
  'CANFD_RX_INVALID_FRAME',
  'CANXL_RX_INVALID_FRAME',
  'TAP_FILTER',
  'PSP_INPUT',
  'UNHANDLED_PROTO',
]);

/** TCP_* reasons are all raised while processing a received segment (tcp_v4_rcv and below). */
function reasonDirection(reason: string): Direction | undefined {
  if (EGRESS_REASONS.has(reason)) return DIRECTION.egress;
  if (INGRESS_REASONS.has(reason)) return DIRECTION.ingress;
  if (reason.startsWith('TCP_') || reason.startsWith('IPV6_NDISC_')) return DIRECTION.ingress;
  return undefined;
}

/** Functions on the receive path (including forwarding, see the file comment). */
const INGRESS_FUNCTIONS = [
  '__netif_receive_skb_core',
  '__netif_receive_skb_one_core',
  '__netif_receive_skb_list_core',
  'netif_receive_skb',
  'enqueue_to_backlog',
  'netif_rx_internal',
  'do_xdp_generic',
  'ip_rcv',
  'ip_rcv_core',
  'ip_rcv_finish',
  'ip_rcv_finish_core',
  'ip_sublist_rcv_finish',
  'ip_list_rcv_finish',
  'ip_local_deliver',
  'ip_local_deliver_finish',
  'ip_protocol_deliver_rcu',
  'ip_route_input_slow',
  'ip_route_input_noref',
  'ip_defrag',
  'ip_frag_queue',
  'ip_frag_reasm',
  'ip_forward',
  'ip_forward_finish',
  'ipv6_rcv',
  'ip6_rcv_core',
  'ip6_rcv_finish',
  'ip6_input',
  'ip6_input_finish',
  'ip6_mc_input',
  'ip_mc_input',
  'ip6_protocol_deliver_rcu',
  'ip6_forward',
  'ip6_forward_finish',
  'ipv6_frag_rcv',
  'ip6_frag_queue',
  'icmp_rcv',
  'icmpv6_rcv',
  'tcp_v4_rcv',
  'tcp_v6_rcv',
  'tcp_v4_do_rcv',
  'tcp_v6_do_rcv',
  'tcp_rcv_established',
  'tcp_rcv_state_process',
  'tcp_validate_incoming',
  'tcp_data_queue',
  'tcp_data_queue_ofo',
  'tcp_add_backlog',
  'tcp_conn_request',
  'tcp_v4_conn_request',
  'tcp_v6_conn_request',
  'tcp_v4_syn_recv_sock',
  'tcp_v6_syn_recv_sock',
  'tcp_check_req',
  'tcp_child_process',
  'tcp_drop_reason',
  'tcp_drop',
  '__udp4_lib_rcv',
  '__udp6_lib_rcv',
  'udp_rcv',
  'udpv6_rcv',
  'udp_queue_rcv_skb',
  'udp_queue_rcv_one_skb',
  'udpv6_queue_rcv_skb',
  'udpv6_queue_rcv_one_skb',
  '__udp_queue_rcv_skb',
  '__udpv6_queue_rcv_skb',
  'udp_unicast_rcv_skb',
  '__udp4_lib_mcast_deliver',
  '__udp6_lib_mcast_deliver',
  'sock_queue_rcv_skb_reason',
  'sock_queue_rcv_skb',
  '__sock_queue_rcv_skb',
  'sk_filter_trim_cap',
  'raw_rcv',
  'raw_rcv_skb',
  'rawv6_rcv',
  'arp_rcv',
  'arp_process',
  'ndisc_rcv',
  'packet_rcv',
  'tpacket_rcv',
  'br_handle_frame',
  'br_handle_frame_finish',
  'vxlan_rcv',
  'geneve_rcv',
  'veth_xdp_rcv_skb',
  'tcf_classify_ingress',
  'sch_handle_ingress',
];

/** Functions on the transmit path. */
const EGRESS_FUNCTIONS = [
  'ip_output',
  'ip_finish_output',
  '__ip_finish_output',
  'ip_finish_output2',
  'ip_local_out',
  '__ip_local_out',
  'ip_queue_xmit',
  '__ip_queue_xmit',
  'ip_send_skb',
  'ip_push_pending_frames',
  'ip_fragment',
  'ip_do_fragment',
  'ip_mc_output',
  'ip6_output',
  'ip6_finish_output',
  '__ip6_finish_output',
  'ip6_finish_output2',
  'ip6_local_out',
  '__ip6_local_out',
  'ip6_xmit',
  'ip6_send_skb',
  'ip6_fragment',
  'udp_send_skb',
  'udp_v6_send_skb',
  'tcp_transmit_skb',
  '__tcp_transmit_skb',
  '__dev_queue_xmit',
  'dev_queue_xmit',
  'dev_hard_start_xmit',
  '__dev_xmit_skb',
  'dev_qdisc_enqueue',
  'sch_direct_xmit',
  '__qdisc_run',
  'qdisc_drop',
  'qdisc_drop_all',
  '__qdisc_drop',
  'validate_xmit_skb',
  'validate_xmit_skb_list',
  'dev_direct_xmit',
  'sch_handle_egress',
  'tcf_classify_egress',
  'veth_xmit',
  'packet_snd',
  'tpacket_snd',
  'arp_xmit',
  'ndisc_send_skb',
  'br_dev_queue_push_xmit',
  'br_forward_finish',
];

/** Function-name prefixes: every neigh_* runs when resolving the next hop of an outgoing packet, pfifo/fq are qdiscs. */
const EGRESS_PREFIXES = ['neigh_', '__neigh_', 'pfifo_', 'fq_', 'htb_', 'tbf_', 'netem_', 'cake_', 'codel_'];

const FUNCTION_DIRECTION = new Map<string, Direction>([
  ...INGRESS_FUNCTIONS.map((name) => [name, DIRECTION.ingress] as const),
  ...EGRESS_FUNCTIONS.map((name) => [name, DIRECTION.egress] as const),
]);

export function functionDirection(fn: string): Direction | undefined {
  const direct = FUNCTION_DIRECTION.get(fn);
  if (direct) return direct;
  // Compiler-made copies keep the name with a suffix: ip_rcv_core.isra.0, tcp_v4_rcv.cold.
  const base = fn.replace(/\.(isra|constprop|part|cold|llvm)\b.*$/, '');
  if (base !== fn) return functionDirection(base);
  if (EGRESS_PREFIXES.some((prefix) => fn.startsWith(prefix))) return DIRECTION.egress;
  return undefined;
}

/** Where netfilter drops happen: nf_hook_slow is called from every hook, so only its caller says the path. */
/** Netfilter functions that free dropped packets (nft_do_chain on recent kernels, nf_hook_slow on 5.15). */
export const NETFILTER_FUNCTIONS = new Set([
  'nf_hook_slow',
  'nf_hook_slow_list',
  'nft_do_chain',
  'nft_do_chain_inet',
  'nft_do_chain_ipv4',
  'nft_do_chain_ipv6',
  'ipt_do_table',
  'ip6t_do_table',
  'ebt_do_table',
]);

/**
 * The direction of a netfilter drop from the kernel stack of the event (innermost frame first): the first frame
 * that belongs to a path decides. `nf_hook_slow` itself and the tracing frames are skipped by the caller or match
 * nothing here.
 */
export function stackDirection(frames: readonly string[]): Direction | undefined {
  for (const frame of frames) {
    if (NETFILTER_FUNCTIONS.has(frame)) continue;
    const direction = functionDirection(frame);
    if (direction) return direction;
    // Bridge netfilter hooks: pre-routing and input are the receive side, post-routing the transmit side.
    if (frame.startsWith('br_nf_pre_routing') || frame.startsWith('br_nf_local_in')) return DIRECTION.ingress;
    if (frame.startsWith('br_nf_post_routing') || frame.startsWith('br_nf_local_out')) return DIRECTION.egress;
  }
  return undefined;
}

/**
 * The direction of a drop: by reason where the reason alone says it, else by the function it died in. Returns
 * undefined when neither tells (the caller may still use the stack, else reports `unknown`).
 */
export function dropDirection(reason: string | undefined, fn: string | undefined): Direction | undefined {
  const byReason = reason === undefined ? undefined : reasonDirection(reason);
  if (byReason) return byReason;
  return fn === undefined ? undefined : functionDirection(fn);
}

/**
 * Kernels without the `reason` field (5.15): the reason derived from the function that freed the packet. These are
 * the kernel's own reason names where that function drops for one main cause; they are approximations (tcp_v4_rcv
 * also drops for checksum errors, for example), and the README says so.
 */
const DERIVED_REASONS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['NETFILTER_DROP', ['nf_hook_slow', 'nf_hook_slow_list', 'nft_do_chain', 'ipt_do_table', 'ip6t_do_table']],
  ['NO_SOCKET', ['__udp4_lib_rcv', '__udp6_lib_rcv', 'tcp_v4_rcv', 'tcp_v6_rcv', 'raw_rcv_skb']],
  [
    'SOCKET_RCVBUFF',
    [
      'udp_queue_rcv_one_skb',
      'udpv6_queue_rcv_one_skb',
      '__udp_queue_rcv_skb',
      '__udpv6_queue_rcv_skb',
      'sock_queue_rcv_skb',
      '__sock_queue_rcv_skb',
      'raw_rcv',
    ],
  ],
  ['SOCKET_FILTER', ['sk_filter_trim_cap']],
  ['SOCKET_BACKLOG', ['tcp_add_backlog']],
  ['CPU_BACKLOG', ['enqueue_to_backlog', 'netif_rx_internal']],
  ['IP_INHDR', ['ip_rcv_core', 'ip6_rcv_core']],
  ['IP_INNOROUTES', ['ip_rcv_finish', 'ip_rcv_finish_core', 'ip6_rcv_finish', 'ip_route_input_slow']],
  ['IP_NOPROTO', ['ip_local_deliver_finish', 'ip_protocol_deliver_rcu', 'ip6_input_finish']],
  ['IP_FORWARD', ['ip_forward', 'ip6_forward']],
  ['TCP_INVALID', ['tcp_rcv_state_process', 'tcp_validate_incoming', 'tcp_rcv_established', 'tcp_v4_do_rcv']],
  ['TCP_DATA_QUEUE', ['tcp_data_queue', 'tcp_data_queue_ofo']],
  ['TCP_LISTEN_OVERFLOW', ['tcp_conn_request', 'tcp_v4_syn_recv_sock', 'tcp_v6_syn_recv_sock']],
  ['UNHANDLED_PROTO', ['__netif_receive_skb_core']],
  ['QDISC_DROP', ['__dev_queue_xmit', '__dev_xmit_skb', 'sch_direct_xmit', 'qdisc_drop', 'dev_qdisc_enqueue']],
  ['NEIGH_FAILED', ['ip_finish_output2', 'ip6_finish_output2', '__neigh_event_send', 'neigh_resolve_output']],
  ['IP_OUTNOROUTES', ['ip_queue_xmit', '__ip_queue_xmit', 'ip6_xmit']],
];

const DERIVED_BY_FUNCTION = new Map<string, string>(
  DERIVED_REASONS.flatMap(([reason, functions]) => functions.map((fn) => [fn, reason] as const)),
);

/** Every reason name the derived table can produce, plus NOT_SPECIFIED for functions it does not name. */
export const DERIVED_REASON_NAMES: readonly string[] = [...DERIVED_REASONS.map(([reason]) => reason), 'NOT_SPECIFIED'];

export function derivedReason(fn: string | undefined): string {
  if (fn === undefined) return 'NOT_SPECIFIED';
  const base = fn.replace(/\.(isra|constprop|part|cold|llvm)\b.*$/, '');
  return DERIVED_BY_FUNCTION.get(base) ?? 'NOT_SPECIFIED';
}
