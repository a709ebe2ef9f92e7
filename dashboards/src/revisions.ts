/**
 * Dashboard `revision` numbers, kept honest by a content hash.
 *
 * Grafana re-imports an app plugin's bundled dashboard only when its `revision` differs from the imported one, so a
 * changed dashboard with an unchanged revision never reaches users. Nobody has to remember to bump it: the ledger
 * (dashboards/revisions.json) records each dashboard's revision and the hash of its content without the revision;
 * when the content hash changes, generation bumps the revision by one. The staleness test regenerates and compares,
 * so a changed definition with stale files (or a hand-edited JSON) fails.
 */
import { createHash } from 'node:crypto';
import type { DashboardJson } from './dashboard-builder';

export interface LedgerEntry {
  readonly revision: number;
  readonly sha256: string;
}
export type RevisionLedger = Readonly<Record<string, LedgerEntry>>;

/** Hash of everything Grafana shows, i.e. the dashboard without `revision` and `version`. */
export function contentHash(dashboard: DashboardJson): string {
  const { revision: _revision, version: _version, ...content } = dashboard;
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

export function assignRevisions(
  dashboards: readonly DashboardJson[],
  previous: RevisionLedger,
): { dashboards: DashboardJson[]; ledger: RevisionLedger } {
  const ledger: Record<string, LedgerEntry> = {};
  const withRevisions = dashboards.map((dashboard) => {
    const uid = dashboard.uid;
    if (!uid) throw new Error(`dashboard "${dashboard.title}" has no uid`);
    if (ledger[uid]) throw new Error(`two dashboards share the uid ${uid}`);
    const sha256 = contentHash(dashboard);
    const before = previous[uid];
    const revision = !before ? 1 : before.sha256 === sha256 ? before.revision : before.revision + 1;
    ledger[uid] = { revision, sha256 };
    return { ...dashboard, revision };
  });
  return { dashboards: withRevisions, ledger };
}
