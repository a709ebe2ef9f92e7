/**
 * Creating, owning and removing the TCP flag table (nft-ruleset.ts says what it counts). Reading its counters is
 * elsewhere (tcp-flags.ts): only creation and ownership live here.
 *
 * The table is created with `flags owner` through this collector's own `nft -i` session (kernel/nft-session.ts), so
 * the kernel itself keeps the mark: while this collector lives, no other process can replace or delete the table (a
 * second `kappie serve` with the same --nft-table is refused and says so instead of resetting our counters), and
 * when it dies, even by SIGKILL, the kernel removes the table. A table left by a collector without ownership (an
 * older version, a kernel before 5.12) is still replaced at start, in one transaction.
 */
import { SourceUnavailableError } from '../../errors';
import { runNft } from '../../kernel/nft-command';
import { openNftSession, type NftSession } from '../../kernel/nft-session';
import { createTableScript, NFT_TABLE_FAMILY, type NftFamily, type UplinkPlan } from './nft-ruleset';

/** nft's words when the kernel does not know a table flag (NFT_TABLE_F_OWNER is Linux 5.12+). */
const UNSUPPORTED = /Operation not supported/i;

/** The table's owner: one per tcp_flags source, its session in this closure. */
export interface NftTableOwner {
  /**
   * Creates (or re-creates) the table owned by this collector. Resolves with a note when the kernel cannot mark
   * ownership (the table is then unprotected). Throws a SourceUnavailableError naming the reason when another live
   * process owns a table of that name, and nft's error otherwise.
   */
  install(plan: UplinkPlan, tableName: string, families: readonly NftFamily[]): Promise<string | undefined>;
  /** Runs a script that changes the owned tables (only their owner may: an owned table refuses other sockets). */
  run(script: string): Promise<void>;
  /** Removes the table and ends the session (the kernel would remove an owned table anyway). Safe to call twice. */
  remove(tableName: string, families: readonly NftFamily[]): Promise<void>;
}

/** True when `nft list table` shows the table marked as owned (by a socket other than the caller's, when refused). */
async function ownedByAnother(tableName: string): Promise<boolean> {
  try {
    const text = await runNft(['list', 'table', NFT_TABLE_FAMILY, tableName]);
    return /^\s*flags\s+([a-z,\s]*\b)?owner\b/m.test(text);
  } catch {
    return false;
  }
}

/** The script that deletes the tables this collector created (they exist: it owns them). */
function ownedTablesDeletion(tableName: string, families: readonly NftFamily[]): string {
  return families.map((family) => `delete table ${family} ${tableName}\n`).join('');
}

export function createNftTableOwner(): NftTableOwner {
  let session: NftSession | undefined;
  const liveSession = () => {
    if (session === undefined || session.ended !== undefined) session = openNftSession();
    return session;
  };
  return {
    async install(plan, tableName, families) {
      const nft = liveSession();
      try {
        await nft.run(createTableScript(plan, tableName, families, { owned: true }));
        return undefined;
      } catch (error) {
        // A session that ended ran nothing, so no table refused it: without CAP_NET_ADMIN its error says so
        // (nftFailure's "Operation not permitted ... CAP_NET_ADMIN"), a missing nft likewise.
        if (nft.ended !== undefined) throw error;
        if (await ownedByAnother(tableName)) {
          throw new SourceUnavailableError(
            `the nftables table ${NFT_TABLE_FAMILY} ${tableName} is owned by another live process (another ` +
              '`kappie serve` in this network namespace?): it is never replaced; give this collector its own ' +
              '--nft-table (the kernel refuses changes to a table another process owns with "Operation not permitted", ' +
              'even to root)',
          );
        }
        if (!(error instanceof Error) || !UNSUPPORTED.test(error.message)) throw error;
      }
      await nft.run(createTableScript(plan, tableName, families, { owned: false }));
      return (
        'this kernel cannot mark the nftables table as owned (Linux < 5.12): another collector with the same ' +
        '--nft-table would replace it'
      );
    },
    async run(script) {
      await liveSession().run(script);
    },
    async remove(tableName, families) {
      const nft = session;
      session = undefined;
      if (nft === undefined) return;
      try {
        // A plain delete: re-declaring an owned table without its owner flag (deleteTableScript's `table X {}`) is
        // refused by the kernel (EOPNOTSUPP), so the owner deletes what it knows it created.
        if (nft.ended === undefined) await nft.run(ownedTablesDeletion(tableName, families));
      } finally {
        await nft.close();
      }
    },
  };
}
