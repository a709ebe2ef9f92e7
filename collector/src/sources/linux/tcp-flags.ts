/**
 * kappie_tcp_flag_counters from the nftables table `kappie` (nft-ruleset.ts says what is counted where: TCP segments
 * received and sent by the node's uplinks): start installs the table(s), owned by this collector
 * (nft-table-owner.ts), collect follows the uplinks and reads the 512 counters over nftables netlink
 * (kernel/nft-counters.ts: one dump per table, no process) and sums them per flag (flag-counters.ts), stop removes
 * what start installed.
 */
import * as os from 'node:os';
import { describeError, ParseError, SourceUnavailableError } from '../../errors';
import { showsSameNamespace } from '../../kernel/net-namespace';
import type { Samples, Source, SourceContext } from '../../source';
import { netDevOnce } from './procfs-reads';
import { NftMissingObjectError } from '../../kernel/nft-command';
import { dumpNftCounters, type NftCounterObject } from '../../kernel/nft-counters';
import { createFlagTableReader, missingTable, readFlagTable } from './flag-table-reader';
import { createNetlink, type Netlink } from '../../kernel/netlink-socket';
import type { NftCounter } from './nft-json';
import { createLinkReader, type LinkReader } from './interface-incarnations';
import { bridgePorts } from './link-roles';
import { createNftTableOwner } from './nft-table-owner';
import {
  createTableScript,
  NFT_FAMILIES,
  NFT_TABLE_FAMILY,
  nftInterfaceName,
  updateUplinksScript,
  type NftFamily,
  type UplinkPlan,
} from './nft-ruleset';
import { flagSamples, flagTotals, sumFlagCounters, type FlagTotals } from './flag-counters';
import { findUplinks } from './uplinks';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/**
 * The uplink plan of this gathering: routed uplinks for the inet table, bridge ports for the bridge table. An uplink
 * whose name an nft string cannot hold (nft-ruleset.ts `nftInterfaceName`: a `"`, a backslash, or bytes that are not
 * UTF-8, which its label writes with escapes) is left out of the plan and named in `unmatchable`: the others are
 * still counted, and that one is not matched as another name.
 */
function uplinkPlan(ctx: SourceContext, readLinks: LinkReader): UplinkPlan & { unmatchable: readonly string[] } {
  const dump = readLinks(ctx);
  const present = dump?.links.map(({ name }) => name) ?? netDevOnce(ctx).map(({ name }) => name);
  const unmatchable: string[] = [];
  const uplinks = findUplinks(ctx, present, dump?.links).uplinks.filter((name) => {
    try {
      nftInterfaceName(name);
      return true;
    } catch (error) {
      unmatchable.push(describeError(error));
      return false;
    }
  });
  const bridged = dump === undefined ? [] : bridgePorts(uplinks, dump.links);
  return { inet: uplinks.filter((name) => !bridged.includes(name)), bridge: bridged, unmatchable };
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
  if (objects.length === 0) throw missingTable(family, table);
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

/**
 * What a one-shot snapshot reads: the counters of the serving collector's tables `table`, summed by name, one dump
 * each: inet, and bridge where it exists (its dump is empty where it does not). Throws NftMissingObjectError when
 * there is no inet table.
 */
export function readServingCounters(netlink: Netlink, table: string): ReadonlyMap<string, NftCounter> {
  const bridge = dumpNftCounters(netlink, 'bridge', table, LITTLE_ENDIAN);
  const inet = countersByName(dumpNftCounters(netlink, NFT_TABLE_FAMILY, table, LITTLE_ENDIAN), table);
  return sumByName(bridge.length === 0 ? [inet] : [inet, countersByName(bridge, table, 'bridge')]);
}

/**
 * The TCP flag source: installs its nftables table(s) at start (unless one-shot), follows the uplinks at each
 * gathering (each table's `uplinks` set and chain rules; the bridge table appears with the first bridge-port uplink),
 * reads the counters.
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
  /** Reads the installed tables, the inet one dumped off the main thread by the prefetch (flag-table-reader.ts). */
  const tables = createFlagTableReader(netlink);
  /** The uplinks of the last gathering that nftables cannot match, and why (see uplinkPlan). */
  let unmatchableNote: string | undefined;

  async function install(ctx: SourceContext, plan: UplinkPlan): Promise<void> {
    const families = NFT_FAMILIES.filter((family) => family === 'inet' || plan[family].length > 0);
    ownershipNote = await owner.install(plan, ctx.config.nftTable, families);
    installed = { families, plan };
  }

  /**
   * Brings the installed tables to `plan`: a new bridge table when needed, then every table's `uplinks` set and chain
   * rules replaced in ONE transaction (updateUplinksScript, one script through the owner's session), so no packet
   * meets a half-changed table and the named counters keep counting.
   */
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
      // The table is installed, and its counters read, in the collector's own namespace; the uplinks come from the
      // proc root. A proc root showing another namespace would count that namespace's uplink names here: nothing.
      if (ctx.fs.procIsLive() && !showsSameNamespace(ctx.fs.procPath)) {
        throw new SourceUnavailableError(
          `--proc-path ${ctx.fs.procPath} shows another network namespace than the collector's; TCP flags are counted ` +
            "by an nftables table in the collector's own namespace: run the collector in that namespace " +
            '(hostNetwork on a node) to count them',
        );
      }
      if (ctx.oneShot) {
        try {
          readFlagTable(netlink, NFT_TABLE_FAMILY, ctx.config.nftTable);
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
    prefetch(ctx) {
      if (installed !== undefined) tables.prefetch(ctx.config.nftTable);
    },
    async collect(ctx) {
      try {
        return await collectWith(ctx);
      } finally {
        // Whatever failed, the next prefetch must find the client's off-thread dump finished.
        await tables.settle();
      }
    },
    note: () => [ownershipNote, unmatchableNote].filter((part) => part !== undefined).join('; ') || undefined,
    async stop(ctx) {
      readLinks.close();
      netlink.close();
      if (installed === undefined) return;
      const { families } = installed;
      installed = undefined;
      await owner.remove(ctx.config.nftTable, families);
    },
  };

  /** One gathering: follow the uplinks, read the installed tables (the prefetched inet dump when there is one). */
  async function collectWith(ctx: SourceContext): Promise<Samples> {
    const plan = uplinkPlan(ctx, readLinks);
    unmatchableNote = plan.unmatchable.length > 0 ? `not counted: ${plan.unmatchable.join('; ')}` : undefined;
    let totals: FlagTotals;
    try {
      await follow(ctx, plan);
      totals =
        installed === undefined
          ? sumFlagCounters(readServingCounters(netlink, ctx.config.nftTable))
          : flagTotals(await tables.read(ctx.log, installed.families, ctx.config.nftTable));
    } catch (error) {
      if (!(error instanceof NftMissingObjectError) || installed === undefined) throw error;
      // Someone flushed the ruleset or deleted a table: put them back; the counters restart (a counter reset).
      await install(ctx, plan);
      throw new SourceUnavailableError(
        `the nftables table ${NFT_TABLE_FAMILY} ${ctx.config.nftTable} had been removed; recreated it, counters restart`,
      );
    }
    return { tcpFlagCounters: flagSamples(totals) };
  }
}
