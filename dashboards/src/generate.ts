/**
 * Writes the dashboards' JSON into generated/ (committed): `npm run -w dashboards generate`.
 * The same JSON is bundled by the app plugin, file-provisioned, and pushed to Azure Managed Grafana.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll } from './index';
import { assignRevisions, type RevisionLedger } from './revisions';

export const GENERATED_DIR = join(__dirname, '..', 'generated');
/** Outside generated/ so that every JSON file there is a dashboard (Grafana's file provider loads them all). */
export const LEDGER_PATH = join(__dirname, '..', 'revisions.json');

export function readLedger(path: string = LEDGER_PATH): RevisionLedger {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as RevisionLedger) : {};
}

const toText = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The dashboards (file name -> content) and the ledger's new content, given the ledger committed now. */
export function renderGenerated(ledger: RevisionLedger): { files: Map<string, string>; ledger: string } {
  const built = buildAll();
  const assigned = assignRevisions(
    built.map((b) => b.json),
    ledger,
  );
  const files = new Map<string, string>();
  built.forEach(({ definition }, index) => files.set(definition.file, toText(assigned.dashboards[index])));
  return { files, ledger: toText(assigned.ledger) };
}

function main(): void {
  mkdirSync(GENERATED_DIR, { recursive: true });
  const { files, ledger } = renderGenerated(readLedger());
  for (const existing of readdirSync(GENERATED_DIR)) {
    if (existing.endsWith('.json') && !files.has(existing)) rmSync(join(GENERATED_DIR, existing));
  }
  for (const [file, content] of files) writeFileSync(join(GENERATED_DIR, file), content);
  writeFileSync(LEDGER_PATH, ledger);
  process.stdout.write(`wrote ${files.size} dashboards to ${GENERATED_DIR} and their revisions to ${LEDGER_PATH}\n`);
}

if (require.main === module) main();
