/**
 * Writes the dashboards' JSON into generated/ (committed): `npm run -w dashboards generate`.
 * The same JSON is bundled by the app plugin, file-provisioned, and pushed to Azure Managed Grafana.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAll } from './index';
import { assignRevisions, type RevisionLedger } from './revisions';

export const GENERATED_DIR = join(__dirname, '..', 'generated');
export const LEDGER_FILE = 'revisions.json';

export function readLedger(dir: string = GENERATED_DIR): RevisionLedger {
  const path = join(dir, LEDGER_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as RevisionLedger) : {};
}

const toText = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** File name -> content of everything generated/ should hold, given the ledger currently there. */
export function renderGenerated(ledger: RevisionLedger): Map<string, string> {
  const built = buildAll();
  const assigned = assignRevisions(
    built.map((b) => b.json),
    ledger,
  );
  const files = new Map<string, string>();
  built.forEach(({ definition }, index) => files.set(definition.file, toText(assigned.dashboards[index])));
  files.set(LEDGER_FILE, toText(assigned.ledger));
  return files;
}

function main(): void {
  mkdirSync(GENERATED_DIR, { recursive: true });
  const files = renderGenerated(readLedger());
  for (const existing of readdirSync(GENERATED_DIR)) {
    if (existing.endsWith('.json') && !files.has(existing)) rmSync(join(GENERATED_DIR, existing));
  }
  for (const [file, content] of files) writeFileSync(join(GENERATED_DIR, file), content);
  process.stdout.write(`wrote ${files.size} files to ${GENERATED_DIR}\n`);
}

if (require.main === module) main();
