/**
 * kappie_tcp_flag_counters from the nftables table `kappie` (nft-ruleset.ts says what is counted where): start
 * installs the table, owned by this collector (nft-table-owner.ts), collect reads its 512 counters over nftables
 * netlink (kernel/nft-counters.ts: one dump, no process) and sums them per flag, stop removes it.
 */
import * as os from 'node:os';
import { TCP_FLAGS, type TcpFlag } from '../../catalog';
import { ParseError, SourceUnavailableError } from '../../errors';
import type { Sample, Source, SourceContext } from '../../source';
import { NftMissingObjectError } from '../../kernel/nft-command';
import { dumpNftCounters, type NftCounterObject } from '../../kernel/nft-counters';
import { createNetlink, type Netlink } from '../../kernel/netlink-socket';
import type { NftCounter } from './nft-json';
import { createNftTableOwner } from './nft-table-owner';
import { flagCounterName, NFT_DIRECTIONS, NFT_TABLE_FAMILY, type NftDirection } from './nft-ruleset';
import { FLAG_BYTE_VALUES, FLAGS_BY_BYTE } from './tcp-flag-bits';

const LITTLE_ENDIAN = os.endianness() === 'LE';

export type FlagTotals = Record<NftDirection, Record<TcpFlag, NftCounter>>;

/** Sums the per-flag-byte counters into per-flag totals; every one of the 512 counters must be present. */
export function sumFlagCounters(counters: ReadonlyMap<string, NftCounter>): FlagTotals {
  const totals = {} as FlagTotals;
  for (const direction of NFT_DIRECTIONS) {
    const perFlag = Object.fromEntries(TCP_FLAGS.map((flag) => [flag, { packets: 0, bytes: 0 }])) as Record<
      TcpFlag,
      { packets: number; bytes: number }
    >;
    for (const value of FLAG_BYTE_VALUES) {
      const name = flagCounterName(direction, value);
      const counter = counters.get(name);
      if (!counter) throw new ParseError('nftables counter dump', `counter ${name} is missing from the kappie table`);
      for (const flag of FLAGS_BY_BYTE[value]!) {
        perFlag[flag].packets += counter.packets;
        perFlag[flag].bytes += counter.bytes;
      }
    }
    totals[direction] = perFlag;
  }
  return totals;
}

/** One sample per flag and direction, zeros included, so every series exists from the first scrape. */
export function flagSamples(totals: FlagTotals): Sample<'tcpFlagCounters'>[] {
  return NFT_DIRECTIONS.flatMap((direction) =>
    TCP_FLAGS.map((flag) => ({ labels: { flag, direction }, value: totals[direction][flag].packets })),
  );
}

/**
 * The counters of table `inet <table>` by name, as numbers. No counter at all means there is no such table (the
 * kernel's dump of a missing table is empty): an NftMissingObjectError, as `nft` says "No such file or directory".
 * A value beyond 2^53 (never reached: 2^53 segments is 28 years at 10^7 segments/s) is a ParseError, not a rounding.
 */
export function countersByName(objects: readonly NftCounterObject[], table: string): Map<string, NftCounter> {
  if (objects.length === 0) {
    throw new NftMissingObjectError(
      `no counters in nftables table ${NFT_TABLE_FAMILY} ${table}: the table does not exist`,
    );
  }
  const counters = new Map<string, NftCounter>();
  const exact = (value: bigint, what: string): number => {
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new ParseError('nftables counter dump', `${what} ${value} > 2^53`);
    return Number(value);
  };
  for (const object of objects) {
    if (counters.has(object.name))
      throw new ParseError('nftables counter dump', `counter ${object.name} appears twice`);
    counters.set(object.name, {
      packets: exact(object.packets, `counter ${object.name} packets`),
      bytes: exact(object.bytes, `counter ${object.name} bytes`),
    });
  }
  return counters;
}

function readCounters(netlink: Netlink, table: string): Map<string, NftCounter> {
  return countersByName(dumpNftCounters(netlink, NFT_TABLE_FAMILY, table, LITTLE_ENDIAN), table);
}

/** The TCP flag source: installs its nftables table at start (unless one-shot) and reads its counters. */
export function createTcpFlagsSource(): Source {
  /**
   * Whether this source installed the table (and so removes it at stop). A one-shot `kappie snapshot` reads the
   * table of the serving collector in the same network namespace and leaves it alone: replacing it would reset that
   * collector's counters, removing it would stop them.
   */
  let ownsTable = false;
  const netlink = createNetlink();
  /** Creates the table owned by this collector (nft-table-owner.ts); its note when ownership cannot be marked. */
  const owner = createNftTableOwner();
  let ownershipNote: string | undefined;
  const installTable = async (ctx: SourceContext) => {
    ownershipNote = await owner.install(ctx.config.podInterfaces, ctx.config.nftTable);
  };
  return {
    name: 'tcp_flags',
    description: `an nftables table of family ${NFT_TABLE_FAMILY} (--nft-table): TCP segments per flag byte at prerouting/postrouting`,
    platforms: ['linux'],
    metrics: ['tcpFlagCounters'],
    async start(ctx) {
      if (ctx.oneShot) {
        try {
          readCounters(netlink, ctx.config.nftTable);
        } catch (error) {
          if (!(error instanceof NftMissingObjectError)) throw error;
          throw new SourceUnavailableError(
            `no nftables table ${NFT_TABLE_FAMILY} ${ctx.config.nftTable}: TCP flags are counted while \`kappie serve\` runs ` +
              'in this network namespace',
          );
        }
        return;
      }
      await installTable(ctx);
      ownsTable = true;
    },
    async collect(ctx) {
      let counters: Map<string, NftCounter>;
      try {
        counters = readCounters(netlink, ctx.config.nftTable);
      } catch (error) {
        if (!(error instanceof NftMissingObjectError) || !ownsTable) throw error;
        // Someone flushed the ruleset or deleted our table: put it back; the counters restart (a counter reset).
        await installTable(ctx);
        throw new SourceUnavailableError(
          `the nftables table ${NFT_TABLE_FAMILY} ${ctx.config.nftTable} had been removed; recreated it, counters restart`,
        );
      }
      const totals = sumFlagCounters(counters);
      return { tcpFlagCounters: flagSamples(totals) };
    },
    note: () => ownershipNote,
    async stop(ctx) {
      if (!ownsTable) return;
      ownsTable = false;
      await owner.remove(ctx.config.nftTable);
    },
  };
}
