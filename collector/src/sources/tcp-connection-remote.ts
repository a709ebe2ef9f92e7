/**
 * The kappie_tcp_connection_remote samples of a peer tally, shared by the Linux (tcp_sockets) and Windows
 * (windows_tcp_state) sources so both export the same series shape: the top-K peers keyed by service
 * (remote-peers.ts) plus one address="other",port="other" series summing the rest, always present.
 */
import { LABEL, OTHER_REMOTE } from '../catalog';
import { servicePeerCounts, topRemotePeers, type PeerTally } from '../remote-peers';
import type { Sample } from '../source';

/**
 * At most `topK` + 1 samples whose values sum to the non-listening sockets with a peer in `tally`; `littleEndian` is
 * the byte order the tally's address words were read in. Undefined when the tally holds no peers (not tallied).
 */
export function tcpConnectionRemoteSamples(
  tally: PeerTally,
  topK: number,
  littleEndian: boolean,
): Sample<'tcpConnectionRemote'>[] | undefined {
  if (tally.peers === undefined) return undefined;
  const peers = topRemotePeers(servicePeerCounts(tally), topK, littleEndian);
  const remote: Sample<'tcpConnectionRemote'>[] = peers.top.map((peer) => ({
    labels: { [LABEL.address]: peer.address, [LABEL.port]: String(peer.port) },
    value: peer.sockets,
  }));
  remote.push({ labels: { [LABEL.address]: OTHER_REMOTE, [LABEL.port]: OTHER_REMOTE }, value: peers.otherSockets });
  return remote;
}
