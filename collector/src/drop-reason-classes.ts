/**
 * What a drop means: every `reason` kappie_drop_count can carry, in one of a few classes, with a one-line meaning.
 *
 * Why: most packets a busy Linux node frees "with a drop reason" were not lost. Closing a socket purges its queues
 * (QUEUE_PURGE), late segments of closed connections find no socket (NO_SOCKET), duplicates of data already received
 * are discarded (TCP_OLD_DATA). Summing every reason into one "dropped packets" number turns a healthy node red. The
 * headline numbers, the alerts and the recording rules count only the classes whose `lost` flag is set (a packet that
 * was on its way somewhere and did not get there: congestion, policy, no path, damage); the other classes have panels
 * of their own.
 *
 * Pure data plus small pure helpers (the class of a reason, a PromQL regex of the reasons of some classes, and the
 * label_replace chain that puts a `drop_class` label on a query), so the dashboards, the Grafana app, the Prometheus
 * rules and the README all read the same table. Sources of the names:
 * - `kernel`: `enum skb_drop_reason` of include/net/dropreason-core.h, the names the skb:kfree_skb tracepoint prints
 *   (union of Linux 5.17 to bpf-next of 2026, meanings from the enum's kernel-doc comments);
 * - `kernel-older`: names a released kernel printed that later kernels renamed or moved to the qdisc drop reasons;
 * - `counters`: reasons the drops source's kernel-counters strategy makes (sources/linux/drops/counters.ts);
 * - `untraced`: drops the tracepoint never names, which the tracefs-events strategy adds from a kernel counter
 *   (sources/linux/drops/untraced-drops.ts);
 * - `derived`: reasons the drops source's tracefs-events strategy derives from the dropping function on 5.15 (sources/linux/drops/locations.ts);
 * - `collector`: the tally's overflow series (sources/linux/drops/tally.ts);
 * - `hyperv`: the Hyper-V Virtual Network Adapter Drop Reasons counters, as sources/windows/hyperv-drop-reasons.ts
 *   names them (the counter name without Incoming/Outgoing);
 * - `vfp`: the VFP port counters, as sources/windows/vfp-port-counters.ts names them (Vfp + the Dropped<Reason> key).
 * A reason not in the table (a newer kernel's, a kernel number without a name such as `0x10003`, another VFP counter)
 * is `unclassified`: shown on its own panel, never in the loss numbers.
 */

/** The classes, in the order the dashboards list them. `lost`: counted as packet loss in headlines and alerts. */
export const DROP_CLASSES = {
  congestion: {
    title: 'Congestion',
    lost: true,
    meaning:
      'A queue, buffer, ring, backlog or memory limit was full: the node could not keep up with a packet that was wanted.',
  },
  policy: {
    title: 'Policy',
    lost: true,
    meaning:
      'A configured rule or filter dropped it on purpose: netfilter, tc, XDP, BPF, socket filters, rp_filter, IPsec, Hyper-V/VFP ACLs and guards.',
  },
  path: {
    title: 'No path',
    lost: true,
    meaning:
      'The node had nowhere to send it: no route, neighbour (ARP/NDP) resolution failed, device down, MTU too small, tunnel without a peer.',
  },
  corruption: {
    title: 'Damaged or malformed',
    lost: true,
    meaning:
      'The packet arrived broken: checksum, header, length or fragment errors. A steady rate points at a link, NIC or offload fault.',
  },
  tcp_state: {
    title: 'TCP state',
    lost: false,
    meaning:
      'A TCP segment that does not fit its connection (out of window, old ACK, bad flags, PAWS reject): usually late or stray segments.',
  },
  not_for_node: {
    title: 'Not for this node',
    lost: false,
    meaning:
      'Nobody here wants it: closed ports, frames for other hosts, protocols without a handler. The sender gets a reset or unreachable where the protocol has one.',
  },
  housekeeping: {
    title: 'Housekeeping',
    lost: false,
    meaning: 'Not a lost packet: buffers freed because their socket closed or they duplicate data already received.',
  },
  unclassified: {
    title: 'Unclassified',
    lost: false,
    meaning:
      'The kernel gave no reason (NOT_SPECIFIED), or a reason this table does not know yet (look at it on the Drops dashboard).',
  },
} as const;

export type DropClass = keyof typeof DROP_CLASSES;
export const DROP_CLASS_NAMES = Object.keys(DROP_CLASSES) as DropClass[];

/** The class of every reason the table does not list. */
export const UNKNOWN_REASON_CLASS: DropClass = 'unclassified';

/** The classes counted as packet loss. */
export const LOSS_CLASSES: readonly DropClass[] = DROP_CLASS_NAMES.filter((name) => DROP_CLASSES[name].lost);

/** The query-time label the dashboards and rules put the class in (the collector does not export it). */
export const DROP_CLASS_LABEL = 'drop_class';

export type DropReasonOrigin =
  'kernel' | 'kernel-older' | 'counters' | 'untraced' | 'derived' | 'collector' | 'hyperv' | 'vfp';

export interface DropReasonEntry {
  /** The `reason` label value, exactly as the collector exports it (case matters). */
  readonly reason: string;
  readonly class: DropClass;
  readonly meaning: string;
  readonly origin: DropReasonOrigin;
}

type Row = readonly [reason: string, dropClass: DropClass, meaning: string];

const rows = (origin: DropReasonOrigin, list: readonly Row[]): DropReasonEntry[] =>
  list.map(([reason, dropClass, meaning]) => ({ reason, class: dropClass, meaning, origin }));

/** `enum skb_drop_reason` (include/net/dropreason-core.h), in the kernel's order. */
const KERNEL: readonly Row[] = [
  ['NOT_SPECIFIED', 'unclassified', 'Freed with kfree_skb() and no reason: the kernel does not say why.'],
  ['NO_SOCKET', 'not_for_node', 'No socket for the packet: a closed port, or a late segment of a closed connection.'],
  ['SOCKET_CLOSE', 'housekeeping', 'The socket was close()d with the packet still queued.'],
  ['SOCKET_FILTER', 'policy', 'A socket filter (classic BPF/eBPF attached to the socket) rejected it.'],
  ['SOCKET_RCVBUFF', 'congestion', 'The socket receive buffer was full: the application reads too slowly.'],
  ['UNIX_DISCONNECT', 'housekeeping', 'A unix socket queue purged on reconnect or peer close.'],
  ['UNIX_SKIP_OOB', 'housekeeping', 'Out-of-band data on a unix socket skipped by recv() without MSG_OOB.'],
  ['PKT_TOO_SMALL', 'corruption', 'The packet is shorter than its headers say.'],
  ['TCP_CSUM', 'corruption', 'TCP checksum error.'],
  ['UDP_CSUM', 'corruption', 'UDP checksum error.'],
  ['NETFILTER_DROP', 'policy', 'A netfilter rule (nftables, iptables, Kubernetes network policy) dropped it.'],
  ['OTHERHOST', 'not_for_node', 'Addressed to another host (seen because the interface is promiscuous).'],
  ['IP_CSUM', 'corruption', 'IP header checksum error.'],
  ['IP_INHDR', 'corruption', 'Invalid IP header (version, length, TTL).'],
  [
    'IP_RPFILTER',
    'policy',
    'Reverse path filter (rp_filter): the source is not reachable back through this interface.',
  ],
  ['UNICAST_IN_L2_MULTICAST', 'not_for_node', 'A unicast IP packet inside a link-layer multicast or broadcast frame.'],
  ['XFRM_POLICY', 'policy', 'An IPsec (xfrm) policy check failed.'],
  ['IP_NOPROTO', 'not_for_node', 'No handler for the IP protocol number.'],
  ['PROTO_MEM', 'congestion', 'The protocol memory limit was reached (e.g. udp_mem, tcp_mem).'],
  ['TCP_AUTH_HDR', 'policy', 'TCP-MD5 or TCP-AO option present twice or malformed.'],
  ['TCP_MD5NOTFOUND', 'policy', 'TCP-MD5 signature expected and missing.'],
  ['TCP_MD5UNEXPECTED', 'policy', 'TCP-MD5 signature present and not expected.'],
  ['TCP_MD5FAILURE', 'policy', 'TCP-MD5 signature wrong.'],
  ['TCP_AONOTFOUND', 'policy', 'TCP-AO signature expected and missing.'],
  ['TCP_AOUNEXPECTED', 'policy', 'TCP-AO signature present and not expected.'],
  ['TCP_AOKEYNOTFOUND', 'policy', 'TCP-AO key unknown.'],
  ['TCP_AOFAILURE', 'policy', 'TCP-AO signature wrong.'],
  ['SOCKET_BACKLOG', 'congestion', 'The socket backlog was full while the socket was busy (TCPBacklogDrop).'],
  ['TCP_FLAGS', 'tcp_state', 'Invalid combination of TCP flags.'],
  ['TCP_ABORT_ON_DATA', 'housekeeping', 'Data arrived for a socket the application already closed (TCPAbortOnData).'],
  ['TCP_ZEROWINDOW', 'congestion', 'The receive window was zero: the receiving application is not reading.'],
  ['TCP_OLD_DATA', 'housekeeping', 'Data received before (a retransmission of data already delivered).'],
  ['TCP_OVERWINDOW', 'tcp_state', 'Data beyond the right edge of the receive window.'],
  ['TCP_OFOMERGE', 'housekeeping', 'Data already in the out-of-order queue.'],
  ['TCP_RFC7323_PAWS', 'tcp_state', 'PAWS check failed: an old timestamp (stale or duplicate segment).'],
  ['TCP_RFC7323_PAWS_ACK', 'tcp_state', 'PAWS check failed on an old ACK.'],
  ['TCP_RFC7323_TW_PAWS', 'tcp_state', 'PAWS check failed for a socket in TIME_WAIT.'],
  ['TCP_RFC7323_TSECR', 'tcp_state', 'Invalid echoed timestamp (TSecr).'],
  ['TCP_LISTEN_OVERFLOW', 'congestion', 'The listener accept queue was full: the server accepts too slowly.'],
  ['TCP_OLD_SEQUENCE', 'housekeeping', 'Old sequence number: a duplicate segment.'],
  ['TCP_INVALID_SEQUENCE', 'tcp_state', 'Sequence number not acceptable for the connection.'],
  ['TCP_INVALID_END_SEQUENCE', 'tcp_state', 'Segment end beyond the window.'],
  ['TCP_INVALID_ACK_SEQUENCE', 'tcp_state', 'ACK for data outside what was sent and not yet acknowledged.'],
  ['TCP_RESET', 'tcp_state', 'Invalid RST segment.'],
  ['TCP_INVALID_SYN', 'tcp_state', 'Unexpected SYN on an existing connection.'],
  ['TCP_CLOSE', 'housekeeping', 'Segment for a socket in state CLOSE.'],
  ['TCP_FASTOPEN', 'tcp_state', 'Dropped by a TCP Fast Open request socket.'],
  ['TCP_OLD_ACK', 'tcp_state', 'Old ACK, still inside the window.'],
  ['TCP_TOO_OLD_ACK', 'tcp_state', 'ACK too old to be considered.'],
  ['TCP_ACK_UNSENT_DATA', 'tcp_state', 'ACK for data not sent yet.'],
  ['TCP_OFO_QUEUE_PRUNE', 'congestion', 'Pruned from the out-of-order queue under memory pressure.'],
  ['TCP_OFO_DROP', 'housekeeping', 'Out-of-order data already in the receive queue.'],
  ['IP_OUTNOROUTES', 'path', 'No route for an outgoing packet.'],
  ['BPF_CGROUP_EGRESS', 'policy', 'A cgroup eBPF program (BPF_PROG_TYPE_CGROUP_SKB) dropped it.'],
  ['IPV6DISABLED', 'not_for_node', 'IPv6 is disabled on the device.'],
  ['NEIGH_CREATEFAIL', 'path', 'Could not create a neighbour (ARP/NDP) entry.'],
  ['NEIGH_FAILED', 'path', 'Neighbour (ARP/NDP) resolution failed: the next hop does not answer.'],
  ['NEIGH_QUEUEFULL', 'congestion', 'Queue of packets waiting for neighbour resolution was full.'],
  ['NEIGH_DEAD', 'path', 'The neighbour entry is dead.'],
  ['NEIGH_HH_FILLFAIL', 'path', 'Could not build the link-layer header for the next hop.'],
  ['TC_EGRESS', 'policy', 'Dropped by a tc egress filter or action.'],
  ['SECURITY_HOOK', 'policy', 'Dropped by a security module hook (LSM).'],
  ['QDISC_DROP', 'congestion', 'The queueing discipline dropped it (queue full or its algorithm).'],
  ['QDISC_BURST_DROP', 'congestion', 'The net.core.qdisc_max_burst limit was hit.'],
  ['CPU_BACKLOG', 'congestion', 'The per-CPU receive backlog was full (netdev_max_backlog) or the RPS flow limit hit.'],
  ['MACVLAN_BROADCAST_BACKLOG', 'congestion', 'The macvlan broadcast queue was full.'],
  ['IPVLAN_MULTICAST_BACKLOG', 'congestion', 'The ipvlan multicast queue was full.'],
  ['XDP', 'policy', 'An XDP program dropped it.'],
  ['TC_INGRESS', 'policy', 'Dropped by a tc ingress filter or action.'],
  [
    'UNHANDLED_PROTO',
    'not_for_node',
    'No handler for the protocol (e.g. LLDP or other link-layer protocols nobody listens to).',
  ],
  ['SKB_CSUM', 'corruption', 'Checksum computation error.'],
  ['SKB_GSO_SEG', 'corruption', 'Segmentation (GSO) error.'],
  ['SKB_BAD_GSO', 'corruption', 'Malicious or malformed GSO packet.'],
  ['SKB_UCOPY_FAULT', 'corruption', 'Copy from user space failed.'],
  ['DEV_HDR', 'corruption', 'Invalid device-specific header or metadata.'],
  ['DEV_READY', 'path', 'The device is not up or not ready.'],
  ['FULL_RING', 'congestion', 'A device ring buffer was full.'],
  ['NOMEM', 'congestion', 'Out of memory.'],
  ['HDR_TRUNC', 'corruption', 'Could not pull the protocol header: truncated packet.'],
  ['TAP_FILTER', 'policy', 'An eBPF filter attached to a tun/tap device dropped it.'],
  ['TAP_TXFILTER', 'policy', 'The tun/tap transmit filter dropped it.'],
  ['ICMP_CSUM', 'corruption', 'ICMP checksum error.'],
  ['INVALID_PROTO', 'corruption', 'The packet breaks its protocol (e.g. a broadcast ICMP timestamp).'],
  ['IP_INADDRERRORS', 'path', 'Host unreachable: invalid destination address for this node.'],
  ['IP_INNOROUTES', 'path', 'Network unreachable: no route for a received packet.'],
  ['IP_LOCAL_SOURCE', 'policy', 'Received packet claims a local source address (spoofing check).'],
  ['IP_INVALID_SOURCE', 'corruption', 'Invalid source address (multicast, limited broadcast, or zero).'],
  ['IP_LOCALNET', 'policy', 'Source or destination in 127.0.0.0/8 on a non-loopback path (route_localnet off).'],
  ['IP_INVALID_DEST', 'corruption', 'Invalid destination address (zero).'],
  ['IP_TTL_EXCEEDED', 'path', 'TTL or hop limit expired while forwarding (a routing loop, or a path too long).'],
  ['PKT_TOO_BIG', 'path', 'Larger than the MTU and not fragmentable.'],
  ['DUP_FRAG', 'housekeeping', 'Duplicate IP fragment.'],
  ['FRAG_REASM_TIMEOUT', 'congestion', 'Fragment reassembly timed out: other fragments of the datagram were lost.'],
  ['FRAG_TOO_FAR', 'corruption', 'IPv4 fragment too far from the others (ipfrag_max_dist).'],
  ['TCP_MINTTL', 'policy', 'TTL or hop limit below the socket minimum (IP_MINTTL, IPV6_MINHOPCOUNT).'],
  ['IPV6_BAD_EXTHDR', 'corruption', 'Bad IPv6 extension header.'],
  ['IPV6_TOO_MANY_EXTHDRS', 'corruption', 'More IPv6 extension headers than allowed.'],
  ['IPV6_NDISC_FRAG', 'corruption', 'Fragmented neighbour discovery message.'],
  ['IPV6_NDISC_HOP_LIMIT', 'corruption', 'Neighbour discovery message with an invalid hop limit.'],
  ['IPV6_NDISC_BAD_CODE', 'corruption', 'Neighbour discovery message with an invalid ICMPv6 code.'],
  ['IPV6_NDISC_BAD_OPTIONS', 'corruption', 'Neighbour discovery message with invalid options.'],
  ['IPV6_NDISC_NS_OTHERHOST', 'not_for_node', 'Neighbour solicitation for another host.'],
  ['QUEUE_PURGE', 'housekeeping', 'A queue freed in bulk (a socket or device tearing down its queues).'],
  ['TC_COOKIE_ERROR', 'policy', 'Error processing a tc extension cookie.'],
  ['PACKET_SOCK_ERROR', 'congestion', 'A packet socket (tcpdump, capture tools) could not take a matching packet.'],
  ['TC_CHAIN_NOTFOUND', 'policy', 'tc chain lookup failed.'],
  ['TC_RECLASSIFY_LOOP', 'policy', 'tc exceeded its reclassify loop limit.'],
  ['VXLAN_INVALID_HDR', 'corruption', 'Invalid VXLAN header.'],
  ['VXLAN_VNI_NOT_FOUND', 'not_for_node', 'No VXLAN device for the VNI.'],
  ['MAC_INVALID_SOURCE', 'corruption', 'Invalid source MAC address.'],
  ['VXLAN_ENTRY_EXISTS', 'policy', 'VXLAN forwarding entry is static or points at a nexthop: not migrated.'],
  ['NO_TX_TARGET', 'path', 'No target to transmit to (e.g. a VXLAN destination without a remote).'],
  ['IP_TUNNEL_ECN', 'corruption', 'Tunnel ECN decapsulation rule (RFC 6040) requires a drop.'],
  ['TUNNEL_TXINFO', 'path', 'Packet without tunnel metadata reached a device in external mode.'],
  ['LOCAL_MAC', 'not_for_node', 'Source MAC is the local device: a frame looped back.'],
  ['ARP_PVLAN_DISABLE', 'policy', 'Non-IP packet forwarded to the device without proxy_arp_pvlan.'],
  ['MAC_IEEE_MAC_CONTROL', 'not_for_node', 'Destination is an IEEE MAC Control address.'],
  ['BRIDGE_INGRESS_STP_STATE', 'policy', 'The bridge port STP state blocks forwarding (loop prevention).'],
  ['CAN_RX_INVALID_FRAME', 'corruption', 'Invalid CAN frame.'],
  ['CANFD_RX_INVALID_FRAME', 'corruption', 'Invalid CAN FD frame.'],
  ['CANXL_RX_INVALID_FRAME', 'corruption', 'Invalid CAN XL frame.'],
  ['PFMEMALLOC', 'congestion', 'Allocated from memory reserves and not allowed to use them on this path.'],
  ['PSP_INPUT', 'policy', 'PSP (encryption) input checks failed.'],
  ['PSP_OUTPUT', 'policy', 'PSP (encryption) output checks failed.'],
  ['RECURSION_LIMIT', 'path', 'A loop between virtual devices hit the recursion limit.'],
  ['TNL_OPT_MISMATCH', 'policy', 'Tunnel options of the packet do not match the tunnel configuration.'],
  ['TNL_OLD_SEQ', 'tcp_state', 'Tunnel sequence number older than expected.'],
  ['GRE_INVALID_HDR', 'corruption', 'Invalid GRE header.'],
  ['GRE_CSUM', 'corruption', 'GRE checksum error.'],
  ['GRE_TUNNEL_NOT_FOUND', 'not_for_node', 'No GRE tunnel for the endpoints and key.'],
];

/** Names released kernels printed that later kernels renamed, or moved to the qdisc drop reasons (6.19+). */
const KERNEL_OLDER: readonly Row[] = [
  ['PTYPE_ABSENT', 'not_for_node', 'No handler for the protocol (5.18; renamed UNHANDLED_PROTO).'],
  ['QDISC_OVERLIMIT', 'congestion', 'A qdisc exceeded its total buffer limit.'],
  ['QDISC_CONGESTED', 'congestion', 'A qdisc AQM algorithm dropped it for congestion.'],
  ['CAKE_FLOOD', 'congestion', 'CAKE qdisc flood protection (BLUE).'],
  ['FQ_BAND_LIMIT', 'congestion', 'fq qdisc per-band limit reached.'],
  ['FQ_HORIZON_LIMIT', 'congestion', 'fq qdisc: timestamp too far in the future.'],
  ['FQ_FLOW_LIMIT', 'congestion', 'fq qdisc per-flow limit reached.'],
  ['DUALPI2_STEP_DROP', 'congestion', 'DualPI2 qdisc step drop.'],
  ['VXLAN_NO_REMOTE', 'path', 'VXLAN destination without a remote (renamed NO_TX_TARGET).'],
];

/** sources/linux/drops/counters.ts COUNTER_REASONS that are not kernel reason names. */
const COUNTERS: readonly Row[] = [
  [
    'NETDEV_RX_DROP',
    'congestion',
    'Interface receive drops (/proc/net/dev): ring full; some drivers also count unhandled frames.',
  ],
  ['NETDEV_TX_DROP', 'congestion', 'Interface transmit drops (/proc/net/dev).'],
  ['IP_INDISCARDS', 'congestion', 'IP input discards (InDiscards): no buffer space.'],
  ['IP_OUTDISCARDS', 'congestion', 'IP output discards (OutDiscards).'],
  ['CONNTRACK_DROP', 'congestion', 'Connection tracking drops and failed inserts (table full or insert race).'],
];

/** sources/linux/drops/untraced-drops.ts UNTRACED_DROP_ROWS: drops no kfree_skb event names, counted by a counter. */
const UNTRACED: readonly Row[] = [
  [
    'TCP_LISTEN_SYN_DROP',
    'congestion',
    'A SYN a listener dropped (accept or SYN queue full, no memory or route): ListenDrops the tracepoint never sees.',
  ],
  [
    'IP_OUTNOROUTES_UNTRACED',
    'path',
    'A send or connect refused with ENETUNREACH before a packet existed: OutNoRoutes the tracepoint never sees.',
  ],
  [
    'NETDEV_RX_MISSED',
    'congestion',
    'Frames the NIC dropped for want of receive buffers (rx_missed_errors): never became a packet buffer.',
  ],
];

/** Reasons the 5.15 fallback derives from the dropping function that are not kernel reason names. */
const DERIVED: readonly Row[] = [
  ['IP_FORWARD', 'path', 'Dropped while forwarding (ip_forward): TTL, MTU or forwarding disabled.'],
  ['TCP_INVALID', 'tcp_state', 'Dropped by TCP state processing (5.15 derived: invalid or stray segment).'],
  [
    'TCP_DATA_QUEUE',
    'tcp_state',
    'Dropped while queueing TCP data (5.15 derived: out of window, duplicate or zero window).',
  ],
];

const COLLECTOR: readonly Row[] = [
  [
    'OTHER',
    'unclassified',
    'Drops of reason/direction pairs beyond the collector tally limit (400), summed into one series.',
  ],
];

/** Hyper-V Virtual Network Adapter Drop Reasons counter names (without Incoming/Outgoing). */
const HYPERV: readonly Row[] = [
  ['Unknown', 'unclassified', 'Hyper-V: unknown reason.'],
  ['InvalidData', 'corruption', 'Hyper-V: invalid data.'],
  ['InvalidPacket', 'corruption', 'Hyper-V: invalid packet.'],
  ['Resources', 'congestion', 'Hyper-V: out of resources.'],
  ['NotReady', 'path', 'Hyper-V: the adapter is not ready.'],
  ['Disconnected', 'path', 'Hyper-V: the adapter is disconnected.'],
  ['NotAccepted', 'not_for_node', 'Hyper-V: not accepted by the destination adapter.'],
  ['Busy', 'congestion', 'Hyper-V: the adapter is busy.'],
  ['Filtered', 'policy', 'Hyper-V: filtered (switch extension or port ACL).'],
  ['FilteredVLAN', 'policy', 'Hyper-V: VLAN filter.'],
  ['UnauthorizedVLAN', 'policy', 'Hyper-V: VLAN not authorized on the port.'],
  ['UnauthorizedMAC', 'policy', 'Hyper-V: MAC not authorized on the port.'],
  ['FailedSecurityPolicy', 'policy', 'Hyper-V: port security policy.'],
  ['FailedPvlanSetting', 'policy', 'Hyper-V: private VLAN setting.'],
  ['Qos', 'policy', 'Hyper-V: QoS policy (bandwidth limit).'],
  ['Ipsec', 'policy', 'Hyper-V: IPsec.'],
  ['MacSpoofing', 'policy', 'Hyper-V: MAC spoofing protection.'],
  ['DhcpGuard', 'policy', 'Hyper-V: DHCP guard.'],
  ['RouterGuard', 'policy', 'Hyper-V: router guard.'],
  ['BridgeReserved', 'not_for_node', 'Hyper-V: reserved bridge address (e.g. STP frames).'],
  ['VirtualSubnetId', 'policy', 'Hyper-V: virtual subnet isolation.'],
  ['RequiredExtensionMissing', 'path', 'Hyper-V: a required switch extension is missing.'],
  ['InvalidConfig', 'path', 'Hyper-V: invalid port or switch configuration.'],
  ['MTUMismatch', 'path', 'Hyper-V: larger than the MTU.'],
  ['NativeFwdingReq', 'path', 'Hyper-V: native forwarding required.'],
  ['InvalidVlanFormat', 'corruption', 'Hyper-V: invalid VLAN tag.'],
  ['InvalidDestMac', 'corruption', 'Hyper-V: invalid destination MAC.'],
  ['InvalidSourceMac', 'corruption', 'Hyper-V: invalid source MAC.'],
  ['InvalidFirstNBTooSmall', 'corruption', 'Hyper-V: first buffer too small for the headers.'],
  ['StormLimit', 'policy', 'Hyper-V: broadcast/multicast storm limit.'],
  ['InjectedIcmp', 'path', 'Hyper-V: dropped and answered with an injected ICMP message (e.g. packet too big).'],
  ['FailedDestinationListUpdate', 'path', 'Hyper-V: destination list update failed.'],
  ['NicDisabled', 'path', 'Hyper-V: the NIC is disabled.'],
  ['FailedPacketFilter', 'not_for_node', 'Hyper-V: not matched by the NIC packet filter (address not subscribed).'],
  ['SwitchDataFlowDisabled', 'path', 'Hyper-V: switch data flow disabled.'],
  ['FilteredIsolationUntagged', 'policy', 'Hyper-V: untagged frame on an isolated port.'],
  ['InvalidPDQueue', 'path', 'Hyper-V: invalid PacketDirect queue.'],
  ['LowPowerPacketFilter', 'not_for_node', 'Hyper-V: filtered while the NIC is in low power.'],
  ['Wnv', 'policy', 'Hyper-V: network virtualization (HNV) policy.'],
];

/** VFP port drop counters as the collector names them. */
const VFP: readonly Row[] = [['VfpAcl', 'policy', 'VFP: an ACL rule (network policy) dropped it.']];

/** The table: every reason with its class and meaning. Reason names are unique. */
export const DROP_REASON_CLASSES: readonly DropReasonEntry[] = [
  ...rows('kernel', KERNEL),
  ...rows('kernel-older', KERNEL_OLDER),
  ...rows('counters', COUNTERS),
  ...rows('untraced', UNTRACED),
  ...rows('derived', DERIVED),
  ...rows('collector', COLLECTOR),
  ...rows('hyperv', HYPERV),
  ...rows('vfp', VFP),
];

const CLASS_BY_REASON: ReadonlyMap<string, DropClass> = new Map(
  DROP_REASON_CLASSES.map((entry) => [entry.reason, entry.class]),
);

/** The class of a reason; `unclassified` for any reason the table does not list. */
export function dropReasonClass(reason: string): DropClass {
  return CLASS_BY_REASON.get(reason) ?? UNKNOWN_REASON_CLASS;
}

/** The reasons the table puts in any of `classes`, sorted. */
export function reasonsOfClasses(classes: readonly DropClass[]): string[] {
  return DROP_REASON_CLASSES.filter((entry) => classes.includes(entry.class))
    .map((entry) => entry.reason)
    .sort();
}

/**
 * A PromQL regex (for `reason=~"..."`) matching exactly the listed reasons of `classes`. Reason names are
 * identifiers (letters, digits, `_`), so they need no escaping; Prometheus anchors the regex at both ends.
 */
export function reasonRegex(classes: readonly DropClass[]): string {
  return reasonsOfClasses(classes).join('|');
}

/**
 * Wraps a PromQL expression whose series carry `reason` so that each also carries `drop_class`: one label_replace
 * per class (regex on `reason`, anchored by Prometheus), then series no class matched (reasons the table does not
 * know) get `unclassified`. The label_replace calls keep every other label, so callers aggregate as they need.
 */
export function withDropClass(expr: string, reasonLabel = 'reason'): string {
  let wrapped = expr;
  for (const name of DROP_CLASS_NAMES) {
    const reasons = reasonsOfClasses([name]);
    if (reasons.length === 0) continue;
    wrapped = `label_replace(${wrapped}, "${DROP_CLASS_LABEL}", "${name}", "${reasonLabel}", "${reasons.join('|')}")`;
  }
  return `label_replace(${wrapped}, "${DROP_CLASS_LABEL}", "${UNKNOWN_REASON_CLASS}", "${DROP_CLASS_LABEL}", "")`;
}
