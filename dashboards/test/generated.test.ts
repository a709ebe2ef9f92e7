/**
 * The committed JSON under generated/ is exactly what the definitions produce, and its revisions follow its content.
 * When this fails after a dashboard change: `npm run -w dashboards generate` and commit generated/.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_DIR, LEDGER_PATH, readLedger, renderGenerated } from '../src/generate';
import { assignRevisions, contentHash } from '../src/revisions';
import { buildAll, type DashboardJson } from '../src';

describe('generated dashboards', () => {
  const expected = renderGenerated(readLedger());

  it.each([...expected.files.keys()])(
    'generated/%s is up to date (else run `npm run -w dashboards generate`)',
    (file) => {
      expect(readFileSync(join(GENERATED_DIR, file), 'utf8')).toBe(expected.files.get(file));
    },
  );

  it('revisions.json is up to date', () => {
    expect(readFileSync(LEDGER_PATH, 'utf8')).toBe(expected.ledger);
  });

  it('holds only the dashboards, nothing else', () => {
    expect(readdirSync(GENERATED_DIR).sort()).toEqual([...expected.files.keys()].sort());
  });

  it('records the content hash and revision of every committed dashboard', () => {
    const ledger = readLedger();
    for (const { definition } of buildAll()) {
      const committed = JSON.parse(readFileSync(join(GENERATED_DIR, definition.file), 'utf8')) as DashboardJson;
      expect(ledger[definition.uid]).toEqual({ revision: committed.revision, sha256: contentHash(committed) });
    }
  });
});

describe('assignRevisions', () => {
  const [first] = buildAll().map((b) => b.json) as [DashboardJson];
  const firstUid = first.uid as string;

  it('starts at revision 1', () => {
    const { dashboards, ledger } = assignRevisions([first], {});
    expect(dashboards[0]?.revision).toBe(1);
    expect(ledger[firstUid]).toEqual({ revision: 1, sha256: contentHash(first) });
  });

  it('keeps the revision while the content is unchanged', () => {
    const previous = { [firstUid]: { revision: 7, sha256: contentHash(first) } };
    expect(assignRevisions([first], previous).dashboards[0]?.revision).toBe(7);
  });

  it('bumps the revision when the content changes, whatever revision the JSON carried', () => {
    const previous = { [firstUid]: { revision: 7, sha256: contentHash(first) } };
    const changed = { ...first, title: `${first.title} (changed)`, revision: 7 };
    const result = assignRevisions([changed], previous);
    expect(result.dashboards[0]?.revision).toBe(8);
    expect(result.ledger[firstUid]?.sha256).not.toBe(contentHash(first));
  });

  it('does not count revision or version as content', () => {
    expect(contentHash({ ...first, revision: 3, version: 9 })).toBe(contentHash(first));
  });

  it('refuses duplicate uids', () => {
    expect(() => assignRevisions([first, first], {})).toThrow(`two dashboards share the uid ${firstUid}`);
  });
});
