/**
 * The bundling step for the generated dashboards, on dashboards written to a temporary folder: what counts as a
 * dashboard, and the plugin.json `includes` it produces.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pluginJson from '../src/plugin.json';
import { dashboardIncludes, readBundledDashboards, withDashboardIncludes } from '../scripts/dashboards';
import { pluginJsonErrors } from './plugin-json';

const dashboard = (title: string, uid: string) => JSON.stringify({ title, uid, panels: [], schemaVersion: 42 });

describe('bundled dashboards', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-dashboards-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('are the dashboard JSON files of the folder, sorted, other JSON skipped', () => {
    fs.writeFileSync(path.join(dir, 'tcp.json'), dashboard('Kappie / TCP', 'kappie-tcp'));
    fs.writeFileSync(path.join(dir, 'drops.json'), dashboard('Kappie / Drops', 'kappie-drops'));
    fs.writeFileSync(path.join(dir, 'revisions.json'), JSON.stringify({ 'drops.json': 3 }));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not json');
    const dashboards = readBundledDashboards(dir);
    expect(dashboards.map((d) => [d.file, d.path, d.title, d.uid])).toEqual([
      ['drops.json', 'dashboards/drops.json', 'Kappie / Drops', 'kappie-drops'],
      ['tcp.json', 'dashboards/tcp.json', 'Kappie / TCP', 'kappie-tcp'],
    ]);
    expect(dashboardIncludes(dashboards)).toEqual([
      {
        type: 'dashboard',
        name: 'Kappie / Drops',
        path: 'dashboards/drops.json',
        uid: 'kappie-drops',
        addToNav: false,
      },
      { type: 'dashboard', name: 'Kappie / TCP', path: 'dashboards/tcp.json', uid: 'kappie-tcp', addToNav: false },
    ]);
  });

  it('are listed after the pages in a plugin.json that stays valid', () => {
    fs.writeFileSync(path.join(dir, 'overview.json'), dashboard('Kappie / Overview', 'kappie-overview'));
    const updated = withDashboardIncludes(pluginJson, readBundledDashboards(dir));
    const includes = updated.includes as { type: string; name: string }[];
    expect(includes.slice(0, pluginJson.includes.length)).toEqual(pluginJson.includes);
    expect(includes.at(-1)).toMatchObject({ type: 'dashboard', name: 'Kappie / Overview' });
    expect(pluginJsonErrors(updated)).toEqual([]);
  });

  it('are none when the folder does not exist yet', () => {
    expect(readBundledDashboards(path.join(dir, 'missing'))).toEqual([]);
  });

  it('name the file when a JSON file is broken', () => {
    fs.writeFileSync(path.join(dir, 'broken.json'), '{ "title": ');
    expect(() => readBundledDashboards(dir)).toThrow(/dashboards\/generated\/broken\.json: not valid JSON/);
  });
});
