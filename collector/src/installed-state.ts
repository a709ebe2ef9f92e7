/**
 * What `kappie serve` installs in the kernel on Linux, named as configured (--tracefs-path, --tracefs-instance,
 * --nft-table), for the status page and `kappie sources`: an operator looking for what to clean up, or for why a
 * second collector reports a conflict, needs the real names, not the defaults. Pure: config in, descriptions out.
 */
import * as path from 'node:path';
import type { CollectorConfig } from './config';

export interface InstalledObject {
  /** The kind of object, e.g. "tracefs instance". */
  readonly kind: string;
  /** Its name as the kernel's tools show it: a tracefs directory, an nftables `family table` pair. */
  readonly name: string;
  /** The option that names it. */
  readonly option: string;
  /** What it is for. */
  readonly purpose: string;
}

/** The kernel objects a serving collector creates at start and removes at stop, in the order the sources start. */
export function installedObjects(
  config: Pick<CollectorConfig, 'tracefsPath' | 'tracefsInstance' | 'nftTable'>,
): InstalledObject[] {
  return [
    {
      kind: 'tracefs instance',
      name: path.posix.join(config.tracefsPath, 'instances', config.tracefsInstance),
      option: '--tracefs-instance',
      purpose: 'drops by reason (skb:kfree_skb)',
    },
    {
      kind: 'nftables table',
      name: `inet ${config.nftTable}`,
      option: '--nft-table',
      purpose: 'TCP flag counters',
    },
    {
      kind: 'nftables table',
      name: `bridge ${config.nftTable}`,
      option: '--nft-table',
      purpose: 'TCP flag counters of uplinks that are bridge ports (only while one is)',
    },
  ];
}
