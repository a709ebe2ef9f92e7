/**
 * kappie_tcp_flag_counters from the nftables table `kappie` (nft-ruleset.ts says what is counted where: TCP segments
 * received and sent by the node's uplinks): start installs the table(s), owned by this collector
 * (nft-table-owner.ts), collect follows the uplinks and reads the 512 counters over nftables netlink
 * (kernel/nft-counters.ts: one dump per table, no process) and sums them per flag, stop removes what start installed.
 */ import * as os from 'node:os';
import { TCP_FLAGS, type TcpFlag } from '../../catalog';
import { ParseError, SourceUnavailableError } from '../../errors';
import type { Sample, Source, SourceContext } from '../../source';
import { netDevOnce } from './procfs-reads';
import { NftMissingObjectError } from '../../kernel/nft-command';
import { dumpNftCounters, type NftCounterObject } from '../../kernel/nft-counters';
import { createNetlink, type Netlink } from '../../kernel/netlink-socket';
import type { NftCounter } from './nft-json';
import { createLinkReader, type LinkReader } from './interface-incarnations';
import { bridgePorts } from './link-roles';
import { createNftTableOwner } from './nft-table-owner';
import {
  createTableScript,
  flagCounterName,
  NFT_DIRECTIONS,
  NFT_FAMILIES,
  NFT_TABLE_FAMILY,
  updateUplinksScript,
  type NftDirection,
  type NftFamily,
  type UplinkPlan,
} from './nft-ruleset';
import { FLAG_BYTE_VALUES, FLAGS_BY_BYTE } from './tcp-flag-bits';
import { findUplinks } from './uplinks';

const LITTLE_ENDIAN = os.endianness() === 'LE';

export type FlagTotals = Record<NftDirection, Record<TcpFlag, NftCounter>>;

/** The 256 counter names of each direction, in FLAG_BYTE_VALUES order: made once, looked up at every gathering. */
const COUNTER_NAMES: Readonly<Record<NftDirection, readonly string[]>> = Object.fromEntries(
  NFT_DIRECTIONS.map((direction) => [direction, FLAG_BYTE_VALUES.map((value) => flagCounterName(direction, value))]),
) as unknown as Record<NftDirection, readonly string[]>;

/** Sums the per-flag-byte counters into per-flag totals; every one of the 512 counters must be present. */
export function sumFlagCounters(counters: ReadonlyMap<string, NftCounter>): FlagTotals {
  const totals = {} as FlagTotals;
  for (const direction of NFT_DIRECTIONS) {
    const perFlag = Object.fromEntries(TCP_FLAGS.map((flag) => [flag, { packets: 0, bytes: 0 }])) as Record<
      TcpFlag,
      { packets: number; bytes: number }
    >;
    const names = COUNTER_NAMES[direction];
    for (let i = 0; i < FLAG_BYTE_VALUES.length; i++) {
      const value = FLAG_BYTE_VALUES[i]!;
      const name = names[i]!;
      const counter = counters.get(name);
      if (!counter) throw new ParseError('nft -j list counters', `counter ${name} is missing from the kappie table`);
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

/** The uplink plan of this gathering: routed uplinks for the inet table, bridge ports for the bridge table. */
function uplinkPlan(ctx: SourceContext, readLinks: LinkReader): UplinkPlan {
  const dump = readLinks(ctx);
  const present = dump?.links.map(({ name }) => name) ?? netDevOnce(ctx).map(({ name }) => name);
  const { uplinks } = findUplinks(ctx, present, dump?.links);
  const bridged = dump === undefined ? [] : bridgePorts(uplinks, dump.links);
  return { inet: uplinks.filter((name) => !bridged.includes(name)), bridge: bridged };
}

function samePlan(a: UplinkPlan, b: UplinkPlan): boolean {
  return NFT_FAMILIES.every((family) => a[family].join('\0') === b[family].join('\0'));
}

/**
 * The counters of table `<family> <table>` by name, as numbers. No counter at all means there is no such table (the
 * kernel's dump of a missing table is empty): an NftMissingObjectError, as `nft` says "No such file or directory".
 * A value beyond 2^53 (never reached: 2^53 segments is 28 years at 10^7 segments/s) is a ParseError, not a rounding.
 */
export function countersByName(
  objects: readonly NftCounterObject[],
  table: string,
  family: NftFamily = NFT_TABLE_FAMILY,
): Map<string, NftCounter> {
  if (objects.length === 0) {
    throw new NftMissingObjectError(`no counters in nftables table ${family} ${table}: the table does not exist`);
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

function readTable(netlink: Netlink, family: NftFamily, table: string): Map<string, NftCounter> {
  return countersByName(dumpNftCounters(netlink, family, table, LITTLE_ENDIAN), table, family);
}

/** Counters summed by name over tables (a segment passes one table only). */
function sumByName(tables: readonly ReadonlyMap<string, NftCounter>[]): ReadonlyMap<string, NftCounter> {
  if (tables.length === 1) return tables[0]!; // the usual case: nothing to add up, nothing to copy
  const sum = new Map<string, NftCounter>();
  for (const counters of tables) {
    for (const [name, counter] of counters) {
      const before = sum.get(name) ?? { packets: 0, bytes: 0 };
      sum.set(name, { packets: before.packets + counter.packets, bytes: before.bytes + counter.bytes });
    }
  }
  return sum;
}

/** The counters of every installed table, summed by counter name. */
function readCounters(
  netlink: Netlink,
  table: string,
  families: readonly NftFamily[],
): ReadonlyMap<string, NftCounter> {
  return sumByName(families.map((family) => readTable(netlink, family, table)));
}

/**
 * What a one-shot snapshot reads: the counters of the serving collector's tables `table`, summed by name, one dump
 * each: inet, and bridge where it exists (its dump is empty where it does not). Throws NftMissingObjectError when
 * there is no inet table.
 */
export function readServingCounters(netlink: Netlink, table: string): ReadonlyMap<string, NftCounter> {
  const bridge = dumpNftCounters(netlink, 'bridge', table, LITTLE_ENDIAN);
  const inet = readTable(netlink, NFT_TABLE_FAMILY, table);
  return sumByName(bridge.length === 0 ? [inet] : [inet, countersByName(bridge, table, 'bridge')]);
}

/**
 * The TCP flag source: installs its nftables table(s) at start (unless one-shot), follows the uplinks at each
 * gathering (the `uplinks` sets; the bridge table appears with the first bridge-port uplink), reads the counters.
 */
export function createTcpFlagsSource(): Source {
  const readLinks = createLinkReader();
  /**
   * What this source installed (and so updates and removes at stop): the families of its tables and the uplinks
   * their sets hold. A one-shot `kappie snapshot` reads the tables of the serving collector in the same network
   * namespace and leaves them alone: replacing one would reset that collector's counters, removing it stop them.
   */
  let installed: { families: NftFamily[]; plan: UplinkPlan } | undefined;
  const netlink = createNetlink();
  /** Creates and changes the tables owned by this collector (nft-table-owner.ts); its note when ownership cannot be marked. */
  const owner = createNftTableOwner();
  let ownershipNote: string | undefined;

  async function install(ctx: SourceContext, plan: UplinkPlan): Promise<void> {
    const families = NFT_FAMILIES.filter((family) => family === 'inet' || plan[family].length > 0);
    ownershipNote = await owner.install(plan, ctx.config.nftTable, families);
    installed = { families, plan };
  }

  /** Brings the installed tables to `plan`: new bridge table when needed, sets updated in place. */
  async function follow(ctx: SourceContext, plan: UplinkPlan): Promise<void> {
    if (installed === undefined || samePlan(installed.plan, plan)) return;
    const { families } = installed;
    if (plan.bridge.length > 0 && !families.includes('bridge')) {
      await owner.run(createTableScript(plan, ctx.config.nftTable, ['bridge'], { owned: ownershipNote === undefined }));
      families.push('bridge');
    }
    const script = families.map((family) => updateUplinksScript(family, plan[family], ctx.config.nftTable)).join('');
    await owner.run(script);
    installed = { families, plan };
    ctx.log.info({ uplinks: plan }, 'tcp_flags: counting on new uplinks');
  }

  return {
    name: 'tcp_flags',
    description: `nftables tables ${NFT_FAMILIES.join('/')} (--nft-table): TCP segments per flag byte received and sent by the uplinks`,
    platforms: ['linux'],
    metrics: ['tcpFlagCounters'],
    async start(ctx) {
      if (ctx.oneShot) {
        try {
          readTable(netlink, NFT_TABLE_FAMILY, ctx.config.nftTable);
        } catch (error) {
          if (!(error instanceof NftMissingObjectError)) throw error;
          throw new SourceUnavailableError(
            `no nftables table ${NFT_TABLE_FAMILY} ${ctx.config.nftTable}: TCP flags are counted while \`kappie serve\` runs ` +
              'in this network namespace',
          );
        }
        return;
      }
      await install(ctx, uplinkPlan(ctx, readLinks));
    },
    async collect(ctx) {
      const plan = uplinkPlan(ctx, readLinks);
      let counters: ReadonlyMap<string, NftCounter>;
      try {
        await follow(ctx, plan);
        counters =
          installed === undefined
            ? readServingCounters(netlink, ctx.config.nftTable)
            : readCounters(netlink, ctx.config.nftTable, installed.families);
      } catch (error) {
        if (!(error instanceof NftMissingObjectError) || installed === undefined) throw error;
        // Someone flushed the ruleset or deleted a table: put them back; the counters restart (a counter reset).
        await install(ctx, plan);
        throw new SourceUnavailableError(
          `the nftables table ${NFT_TABLE_FAMILY} ${ctx.config.nftTable} had been removed; recreated it, counters restart`,
        );
      }
      return { tcpFlagCounters: flagSamples(sumFlagCounters(counters)) };
    },
    note: () => ownershipNote,
    async stop(ctx) {
      if (installed === undefined) return;
      const { families } = installed;
      installed = undefined;
      await owner.remove(ctx.config.nftTable, families);
    },
  };
}
