/**
 * Which kernel protocol counters go in which *_connection_stats family, under which statistic_name, and which of
 * them the default set (--statistics default) exports. Pure data, listed in the README.
 *
 * Naming: statistic_name is the kernel's own field name, so it can be looked up in the kernel's documentation and in
 * `nstat` output.
 * - Ip, IpExt, Tcp, TcpExt (/proc/net/snmp, /proc/net/netstat) and Udp: the bare field name (RetransSegs,
 *   TCPSynRetrans, InNoRoutes, NoPorts), as Retina and the AKS documentation name them.
 * - Other lines get their line name in front, so names cannot collide within a family: Icmp and IcmpMsg (ip family,
 *   e.g. IcmpInErrors, IcmpMsgInType3), UdpLite (udp, UdpLiteInErrors), MPTcpExt (tcp, MPTcpExtDataCsumErr).
 * - /proc/net/snmp6 names are already prefixed by the kernel and kept as written: Ip6InNoRoutes and Icmp6InErrors
 *   (ip family), Udp6NoPorts and UdpLite6InErrors (udp family).
 * Lines of other protocols (none today) are not exported.
 */

export type ProtocolFamily = 'tcp' | 'ip' | 'udp';

export interface LinePlacement {
  readonly family: ProtocolFamily;
  /** Put in front of each field name ('' for the family's main lines). */
  readonly prefix: string;
}

/** /proc/net/snmp and /proc/net/netstat lines by name. */
export const TABLE_LINE_PLACEMENT: Readonly<Record<string, LinePlacement>> = {
  Ip: { family: 'ip', prefix: '' },
  IpExt: { family: 'ip', prefix: '' },
  Icmp: { family: 'ip', prefix: 'Icmp' },
  IcmpMsg: { family: 'ip', prefix: 'IcmpMsg' },
  Tcp: { family: 'tcp', prefix: '' },
  TcpExt: { family: 'tcp', prefix: '' },
  MPTcpExt: { family: 'tcp', prefix: 'MPTcpExt' },
  Udp: { family: 'udp', prefix: '' },
  UdpLite: { family: 'udp', prefix: 'UdpLite' },
};

/** /proc/net/snmp6 names by prefix (longest first: UdpLite6 before Udp6). */
export const SNMP6_PREFIX_FAMILY: readonly (readonly [string, ProtocolFamily])[] = [
  ['UdpLite6', 'udp'],
  ['Udp6', 'udp'],
  ['Icmp6', 'ip'],
  ['Ip6', 'ip'],
];

/**
 * Fields that are values, not counts, so they never go in a counter family (rate() of them means nothing):
 * Tcp RtoAlgorithm/RtoMin/RtoMax/MaxConn are constants (MaxConn is -1), CurrEstab is the established socket count,
 * Ip Forwarding is the sysctl (1 or 2) and DefaultTTL the TTL, MPTcpExt MPCurrEstab the established MPTCP count.
 */
export const GAUGE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Tcp: ['RtoAlgorithm', 'RtoMin', 'RtoMax', 'MaxConn', 'CurrEstab'],
  Ip: ['Forwarding', 'DefaultTTL'],
  MPTcpExt: ['MPCurrEstab'],
};

/** kappie_tcp_connection_stats in the default set. */
export const TCP_DEFAULT_STATISTICS = [
  // Tcp (RFC 4022): connections, segments, errors.
  'ActiveOpens',
  'PassiveOpens',
  'AttemptFails',
  'EstabResets',
  'InSegs',
  'OutSegs',
  'RetransSegs',
  'InErrs',
  'OutRsts',
  'InCsumErrors',
  // Retransmits and loss recovery.
  'TCPSynRetrans',
  'TCPFastRetrans',
  'TCPSlowStartRetrans',
  'TCPLostRetransmit',
  'TCPRetransFail',
  'TCPTimeouts',
  'TCPLossProbes',
  // Reordering seen through timestamps (Retina's node dashboard graphs it).
  'TCPTSReorder',
  // Resets sent because the connection was aborted.
  'TCPAbortOnData',
  'TCPAbortOnClose',
  'TCPAbortOnMemory',
  'TCPAbortOnTimeout',
  'TCPAbortOnLinger',
  'TCPAbortFailed',
  // Listen queues and SYN floods.
  'ListenOverflows',
  'ListenDrops',
  'TCPReqQFullDrop',
  'TCPReqQFullDoCookies',
  'SyncookiesSent',
  'SyncookiesRecv',
  'SyncookiesFailed',
  // Segments dropped on receive.
  'TCPBacklogDrop',
  'TCPZeroWindowDrop',
  'TCPRcvQDrop',
  'TCPOFODrop',
  'TCPMinTTLDrop',
  'TCPDeferAcceptDrop',
  'PFMemallocDrop',
  'LockDroppedIcmps',
  'TCPMemoryPressures',
  'TCPTimeWaitOverflow',
  // Named by the AKS Network Observability documentation.
  'DelayedACKs',
  'TCPKeepAlive',
  'TCPSackFailures',
] as const;

/** kappie_ip_connection_stats in the default set. */
export const IP_DEFAULT_STATISTICS = [
  // Ip and IpExt (IPv4).
  'InReceives',
  'InDelivers',
  'OutRequests',
  'ForwDatagrams',
  'InOctets',
  'OutOctets',
  'InHdrErrors',
  'InAddrErrors',
  'InUnknownProtos',
  'InTruncatedPkts',
  'InCsumErrors',
  'InDiscards',
  'OutDiscards',
  'InNoRoutes',
  'OutNoRoutes',
  'ReasmFails',
  'FragFails',
  // Ip6 counterparts.
  'Ip6InReceives',
  'Ip6InDelivers',
  'Ip6OutRequests',
  'Ip6OutForwDatagrams',
  'Ip6InOctets',
  'Ip6OutOctets',
  'Ip6InHdrErrors',
  'Ip6InAddrErrors',
  'Ip6InUnknownProtos',
  'Ip6InTruncatedPkts',
  'Ip6InDiscards',
  'Ip6OutDiscards',
  'Ip6InNoRoutes',
  'Ip6OutNoRoutes',
  'Ip6ReasmFails',
  'Ip6FragFails',
  // ICMP errors (unreachables, PMTU) ride on IP.
  'IcmpInMsgs',
  'IcmpOutMsgs',
  'IcmpInErrors',
  'Icmp6InMsgs',
  'Icmp6OutMsgs',
  'Icmp6InErrors',
] as const;

/** kappie_udp_connection_stats in the default set. */
export const UDP_DEFAULT_STATISTICS = [
  'InDatagrams',
  'OutDatagrams',
  'NoPorts',
  'InErrors',
  'RcvbufErrors',
  'SndbufErrors',
  'InCsumErrors',
  'MemErrors',
  'Udp6InDatagrams',
  'Udp6OutDatagrams',
  'Udp6NoPorts',
  'Udp6InErrors',
  'Udp6RcvbufErrors',
  'Udp6SndbufErrors',
  'Udp6InCsumErrors',
  'Udp6MemErrors',
] as const;

export const DEFAULT_STATISTICS: Readonly<Record<ProtocolFamily, readonly string[]>> = {
  tcp: TCP_DEFAULT_STATISTICS,
  ip: IP_DEFAULT_STATISTICS,
  udp: UDP_DEFAULT_STATISTICS,
};
