/**
 * kappie_tcp_flag_counters from the nftables table `kappie` (nft-ruleset.ts says what is counted where): start
 * installs the table, collect reads its 512 counters with `nft -j` and sums them per flag, stop removes it.
 */
import { TCP_FLAGS, type TcpFlag } from '../../catalog';
import { ParseError, SourceUnavailableError } from '../../errors';
import type { Sample, Source, SourceContext } from '../../source';
import { NftMissingObjectError, runNft } from '../../kernel/nft-command';
import { parseNftCounters, type NftCounter } from './nft-json';
import {
  createTableScript,
  deleteTableScript,
  flagCounterName,
  listCountersArgs,
  NFT_DIRECTIONS,
  NFT_TABLE_FAMILY,
  type NftDirection,
} from './nft-ruleset';
import { FLAG_BYTE_VALUES, flagsOfByte } from './tcp-flag-bits';

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
      if (!counter) throw new ParseError('nft -j list counters', `counter ${name} is missing from the kappie table`);
      for (const flag of flagsOfByte(value)) {
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

async function installTable(ctx: SourceContext): Promise<void> {
  await runNft(['-f', '-'], createTableScript(ctx.config.podInterfaces, ctx.config.nftTable));
}

/** The TCP flag source: installs its nftables table at start (unless one-shot) and reads its counters. */
export function createTcpFlagsSource(): Source {
  /**
   * Whether this source installed the table (and so removes it at stop). A one-shot `kappie snapshot` reads the
   * table of the serving collector in the same network namespace and leaves it alone: replacing it would reset that
   * collector's counters, removing it would stop them.
   */
  let ownsTable = false;
  return {
    name: 'tcp_flags',
    description: `an nftables table of family ${NFT_TABLE_FAMILY} (--nft-table): TCP segments per flag byte at prerouting/postrouting`,
    platforms: ['linux'],
    metrics: ['tcpFlagCounters'],
    async start(ctx) {
      if (ctx.oneShot) {
        try {
          await runNft(listCountersArgs(ctx.config.nftTable));
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
      let text: string;
      try {
        text = await runNft(listCountersArgs(ctx.config.nftTable));
      } catch (error) {
        if (!(error instanceof NftMissingObjectError) || !ownsTable) throw error;
        // Someone flushed the ruleset or deleted our table: put it back; the counters restart (a counter reset).
        await installTable(ctx);
        throw new SourceUnavailableError(
          `the nftables table ${NFT_TABLE_FAMILY} ${ctx.config.nftTable} had been removed; recreated it, counters restart`,
        );
      }
      const totals = sumFlagCounters(parseNftCounters(text, NFT_TABLE_FAMILY, ctx.config.nftTable));
      return { tcpFlagCounters: flagSamples(totals) };
    },
    async stop(ctx) {
      if (!ownsTable) return;
      await runNft(['-f', '-'], deleteTableScript(ctx.config.nftTable));
      ownsTable = false;
    },
  };
}
