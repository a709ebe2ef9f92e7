/** The collector's public API, for the dashboards, the plugin, the bench and tests. */
export * from './catalog';
export { shebangNodeFlags } from './node-flags';
export { DEFAULT_POD_INTERFACES, OPTIONS, resolveConfig, type CollectorConfig } from './config';
export { Gatherer, type Gathering, type SourceStatus } from './gatherer';
export { Exposition } from './exposition';
export type { Source, Sample, Samples, SourceContext } from './source';
// The TCP flag table, for the datapath benchmarks (bench/src/flags-datapath.ts, flags-rule-cost.ts).
export {
  createTableScript,
  deleteTableScript,
  NFT_DIRECTIONS,
  NFT_TABLE_NAME,
  type NftDirection,
  type UplinkPlan,
} from './sources/linux/nft-ruleset';

export { createHostFs, type HostFs, type HostRoots } from './kernel/host-fs';
export { createTcpSocketsSource } from './sources/linux/tcp-sockets';
export { newTcpSocketTally, tallyTcpTable } from './kernel/tcp-table';
export { servicePeerCounts, topRemotePeers } from './remote-peers';
