/**
 * `kappie dashboards push` against a Grafana stand-in that follows Grafana's documented Dashboard and Folder HTTP API
 * contract (see test/helpers/fake-grafana.ts for the endpoints and answers, from grafana/grafana
 * docs/sources/developers/http_api/dashboard.md and folder.md). Not exercised: a real Grafana or Azure Managed Grafana.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli';
import { ConfigError } from '../../src/errors';
import {
  DEFAULT_DASHBOARDS_DIR,
  GrafanaPushError,
  folderUidFor,
  pushDashboards,
  readDashboardFiles,
} from '../../src/grafana-push';
import { startFakeGrafana, type FakeGrafana } from '../helpers/fake-grafana';

const EDITOR = 'glsa_editor_token';
const VIEWER = 'glsa_viewer_token';
const generated = readDashboardFiles(DEFAULT_DASHBOARDS_DIR);

describe('kappie dashboards push', () => {
  let grafana: FakeGrafana;
  let scratch: string;
  beforeEach(async () => {
    grafana = await startFakeGrafana({ editor: EDITOR, viewer: VIEWER });
    scratch = mkdtempSync(join(tmpdir(), 'kappie-push-'));
  });
  afterEach(async () => {
    await grafana.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const posts = (path: string) => grafana.requests.filter((r) => r.method === 'POST' && r.path === path);

  it('creates the folder and every generated dashboard, as the files hold them', async () => {
    expect(generated.length).toBeGreaterThanOrEqual(4);
    const results = await pushDashboards({ url: grafana.url, token: EDITOR });

    expect(results.map((r) => r.outcome)).toEqual(generated.map(() => 'created'));
    expect(grafana.folders).toEqual([{ id: expect.any(Number), uid: 'kappie', title: 'Kappie' }]);
    for (const file of generated) {
      const stored = grafana.dashboards.get(file.uid);
      expect(stored?.folderUid).toBe('kappie');
      expect(stored?.dashboard).toEqual({ ...file.json, id: null });
    }
    for (const request of grafana.requests) expect(request.authorization).toBe(`Bearer ${EDITOR}`);
    for (const request of posts('/api/dashboards/db')) {
      expect(request.body).toMatchObject({ folderUid: 'kappie', overwrite: true, dashboard: { id: null } });
    }
    expect(results[0]?.url).toMatch(new RegExp(`^${grafana.url}/d/${results[0]?.uid}/`));
  });

  it('is idempotent: a second push changes nothing and writes nothing', async () => {
    await pushDashboards({ url: grafana.url, token: EDITOR });
    const requestsBefore = grafana.requests.length;
    const versions = [...grafana.dashboards.values()].map((d) => d.version);

    const again = await pushDashboards({ url: grafana.url, token: EDITOR });

    expect(again.map((r) => r.outcome)).toEqual(generated.map(() => 'unchanged'));
    const later = grafana.requests.slice(requestsBefore);
    expect(later.filter((r) => r.method !== 'GET')).toEqual([]);
    expect([...grafana.dashboards.values()].map((d) => d.version)).toEqual(versions);
    expect(grafana.folders).toHaveLength(1);
  });

  it('updates a dashboard whose revision changed, and only that one', async () => {
    await pushDashboards({ url: grafana.url, token: EDITOR });
    cpSync(DEFAULT_DASHBOARDS_DIR, scratch, { recursive: true });
    const [first] = generated;
    const path = join(scratch, readdirSync(scratch).sort()[0] as string);
    const changed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    writeFileSync(path, JSON.stringify({ ...changed, revision: (first?.revision ?? 0) + 1, title: 'Changed' }));

    const results = await pushDashboards({ url: grafana.url, token: EDITOR, dir: scratch });

    expect(results.filter((r) => r.outcome === 'updated').map((r) => r.uid)).toEqual([first?.uid]);
    expect(grafana.dashboards.get(first?.uid as string)).toMatchObject({ version: 2, dashboard: { title: 'Changed' } });
  });

  it('saves everything again with force, and moves dashboards into another folder', async () => {
    await pushDashboards({ url: grafana.url, token: EDITOR });
    const forced = await pushDashboards({ url: grafana.url, token: EDITOR, force: true });
    expect(forced.map((r) => r.outcome)).toEqual(generated.map(() => 'updated'));

    const moved = await pushDashboards({ url: grafana.url, token: EDITOR, folder: 'Network / Kappie' });
    expect(moved.map((r) => r.outcome)).toEqual(generated.map(() => 'updated'));
    expect(grafana.folders.map((f) => f.uid)).toEqual(['kappie', 'network-kappie']);
  });

  it('uses an existing folder with that title instead of creating one', async () => {
    grafana.folders.push({ id: 99, uid: 'abc123', title: 'Network' });
    await pushDashboards({ url: grafana.url, token: EDITOR, folder: 'Network' });
    expect(posts('/api/folders')).toEqual([]);
    expect([...grafana.dashboards.values()].every((d) => d.folderUid === 'abc123')).toBe(true);
  });

  it('explains a rejected token (401)', async () => {
    const push = pushDashboards({ url: grafana.url, token: 'wrong' });
    await expect(push).rejects.toThrow(GrafanaPushError);
    await expect(pushDashboards({ url: grafana.url, token: 'wrong' })).rejects.toThrow(
      /401 Unauthorized.*check --token is a valid, unexpired service account token/,
    );
  });

  it('explains a token without write access (403)', async () => {
    await expect(pushDashboards({ url: grafana.url, token: VIEWER })).rejects.toThrow(
      /403 Forbidden.*POST .*\/api\/folders.*Editor role.*Access denied/,
    );
    expect(grafana.dashboards.size).toBe(0);
  });

  it('explains a wrong URL path (404)', async () => {
    await expect(pushDashboards({ url: `${grafana.url}/d/kappie-overview`, token: EDITOR })).rejects.toThrow(
      /404 Not Found.*check --url is the Grafana root URL/,
    );
  });

  it('explains an unreachable Grafana', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    await expect(pushDashboards({ url: `http://127.0.0.1:${port}`, token: EDITOR })).rejects.toThrow(
      `cannot reach Grafana at http://127.0.0.1:${port}: ECONNREFUSED`,
    );
  });

  it('refuses bad options before any request', async () => {
    await expect(pushDashboards({ url: 'grafana.example', token: EDITOR })).rejects.toThrow(ConfigError);
    await expect(pushDashboards({ url: 'ftp://grafana.example', token: EDITOR })).rejects.toThrow('--url');
    await expect(pushDashboards({ url: grafana.url, token: ' ' })).rejects.toThrow('--token: is empty');
    await expect(pushDashboards({ url: grafana.url, token: EDITOR, dir: join(scratch, 'missing') })).rejects.toThrow(
      '--dir: cannot read the dashboards directory',
    );
    writeFileSync(join(scratch, 'x.json'), '{"title":"no uid"}');
    await expect(pushDashboards({ url: grafana.url, token: EDITOR, dir: scratch })).rejects.toThrow(
      'is not a Kappie dashboard',
    );
    expect(grafana.requests).toEqual([]);
  });

  it('runs from the CLI, and exits 2 on a missing token, 1 on a refused one', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
    try {
      const argv = ['node', 'kappie', 'dashboards', 'push', '--url', grafana.url];
      expect(await main([...argv, '--token', EDITOR, '--folder', 'Kappie'])).toBe(0);
      expect(out.join('')).toContain(`${generated.length} dashboards in folder "Kappie", ${generated.length} created`);
      expect(await main(argv)).toBe(2);
      expect(err.join('')).toContain('kappie: invalid --token: is required');
      expect(await main([...argv, '--token', 'wrong'])).toBe(1);
      expect(err.join('')).toContain('401 Unauthorized');
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});

describe('folderUidFor', () => {
  it('makes a Grafana uid of a folder title', () => {
    expect(folderUidFor('Kappie')).toBe('kappie');
    expect(folderUidFor('Network / Kappie')).toBe('network-kappie');
    expect(folderUidFor('///')).toBe('kappie');
    expect(folderUidFor('x'.repeat(60))).toHaveLength(40);
  });
});
