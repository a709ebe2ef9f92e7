/**
 * Reading the flag counters of the tables a serving collector installed (tcp-flags.ts), with the inet table's dump
 * made off the main thread.
 *
 * The kernel builds a dump's datagrams inside the send and recv calls that ask for them: for the 512 counter objects
 * of a table that is a few hundred microseconds of the gathering's main thread. The source's prefetch (Source.prefetch,
 * when a gathering begins) hands the inet table's dump to libuv's worker threads (Netlink.dumpOffThread); the
 * datagrams are parsed on the main thread as they arrive, while the other sources collect. The bridge table, which
 * exists only where an uplink is a bridge port, is dumped on the main thread.
 *
 * The main thread dumps the inet table again when the prefetched dump is not usable as it is: interrupted
 * (NLM_F_DUMP_INTR: the ruleset changed meanwhile; readFlagTable dumps until a dump is whole), empty (no table:
 * readFlagTable says so, and the source recreates it) or failed. A failure followed by a working dump on the main
 * thread is the worker threads' (koffi without asynchronous calls, an architecture without them): the reader stops
 * prefetching for good and says why once in the log.
 */
import * as os from 'node:os';
import type { Logger } from 'pino';
import { describeError } from '../../errors';
import { NftMissingObjectError } from '../../kernel/nft-command';
import { dumpNftCountersInto, dumpNftCountersOffThread } from '../../kernel/nft-counters';
import type { Netlink } from '../../kernel/netlink-socket';
import { createFlagCounterSums, type FlagCounterSums } from './flag-counters';
import { NFT_TABLE_FAMILY, type NftFamily } from './nft-ruleset';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** The error of a table whose dump has no counter: the kernel's dump of a missing table is empty. */
export function missingTable(family: NftFamily, table: string): NftMissingObjectError {
  return new NftMissingObjectError(`no counters in nftables table ${family} ${table}: the table does not exist`);
}

/**
 * The flag counters of table `<family> <table>`, dumped now on this thread (flag-counters.ts sums them as they are
 * parsed). Throws NftMissingObjectError when the table does not exist (an empty dump), the sums' ParseErrors (a
 * duplicate, a value beyond 2^53), and what dumpNftCountersInto throws.
 */
export function readFlagTable(netlink: Netlink, family: NftFamily, table: string): FlagCounterSums {
  const values = dumpNftCountersInto(netlink, family, table, LITTLE_ENDIAN, createFlagCounterSums);
  if (values.objects === 0) throw missingTable(family, table);
  return values;
}

/** The outcome of the prefetch's dump: the sums it parsed, or why it failed. */
type PrefetchedTable = { readonly sums: FlagCounterSums } | { readonly error: unknown };

/** The prefetched sums when the dump is whole and saw the table; undefined when it must be dumped again. */
function usableSums(outcome: PrefetchedTable): FlagCounterSums | undefined {
  if (!('sums' in outcome)) return undefined;
  return outcome.sums.interrupted || outcome.sums.objects === 0 ? undefined : outcome.sums;
}

/** Reads the installed tables of one source; its prefetched dump and fallback decision live in this object. */
export interface FlagTableReader {
  /** Starts the off-thread dump of table `inet <table>` for the next read (unless prefetching was given up). */
  prefetch(table: string): void;
  /**
   * The sums of each of `families`' tables `table`, in that order: the inet one from the prefetch when it is usable,
   * the others (and an unusable inet one) dumped now. Throws as readFlagTable.
   */
  read(log: Logger, families: readonly NftFamily[], table: string): Promise<FlagCounterSums[]>;
  /** Waits for a prefetched dump nobody read (a gathering that failed before reading), so the next one can start. */
  settle(): Promise<void>;
}

/** A reader over `netlink` (one off-thread dump at a time: the source's own client). */
export function createFlagTableReader(netlink: Netlink): FlagTableReader {
  let prefetched: Promise<PrefetchedTable> | undefined;
  /** Why the dump is no longer made off the main thread, once that failed and the main thread's worked. */
  let offThreadUnavailable: string | undefined;

  return {
    prefetch(table) {
      if (offThreadUnavailable !== undefined || prefetched !== undefined) return;
      prefetched = dumpNftCountersOffThread(
        netlink,
        NFT_TABLE_FAMILY,
        table,
        LITTLE_ENDIAN,
        createFlagCounterSums(),
      ).then(
        (sums) => ({ sums }),
        (error: unknown) => ({ error }),
      );
    },
    async read(log, families, table) {
      const started = prefetched;
      prefetched = undefined;
      const outcome = await started;
      const inet = outcome === undefined ? undefined : usableSums(outcome);
      const sums = families.map((family) =>
        family === NFT_TABLE_FAMILY && inet !== undefined ? inet : readFlagTable(netlink, family, table),
      );
      // Reached only when the main thread's dump worked: the failure was the worker threads'.
      if (outcome !== undefined && 'error' in outcome) {
        offThreadUnavailable = describeError(outcome.error);
        log.warn({ err: offThreadUnavailable }, 'nftables counter dump off the main thread failed: dumping on it');
      }
      return sums;
    },
    async settle() {
      const started = prefetched;
      prefetched = undefined;
      await started;
    },
  };
}
