/**
 * A stand-in for Grafana's HTTP API (no Grafana can run here), following the documented request and response
 * contract of the endpoints `kappie dashboards push` uses, from Grafana's docs
 * (docs/sources/developers/http_api/dashboard.md and folder.md in grafana/grafana):
 * - every request needs `Authorization: Bearer <token>`: unknown token -> 401 {"message":"Unauthorized"};
 *   a read-only (Viewer) token writing -> 403 {"message":"Access denied"};
 * - GET /api/folders -> 200 [{id, uid, title}]; POST /api/folders {uid?, title} -> 200 {id, uid, title, url, ...},
 *   409 when the folder already exists;
 * - GET /api/dashboards/uid/:uid -> 200 {dashboard, meta: {folderUid, url, slug}} or 404;
 * - POST /api/dashboards/db {dashboard, folderUid, overwrite, message} -> 200 {id, uid, url, status: "success",
 *   version, slug}; 412 {"message", "status": "name-exists"} when the uid exists and overwrite is false;
 *   400 for a missing title or an unknown folderUid;
 * - anything else -> 404 {"message":"Not found"} (what a wrong --url path gets).
 * It keeps state in memory and records every request so tests can check what the client sent.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}
export interface StoredFolder {
  id: number;
  uid: string;
  title: string;
}
export interface StoredDashboard {
  id: number;
  uid: string;
  folderUid: string;
  version: number;
  dashboard: Record<string, unknown>;
}

export interface FakeGrafana {
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly folders: StoredFolder[];
  readonly dashboards: Map<string, StoredDashboard>;
  close(): Promise<void>;
}

const slugOf = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export async function startFakeGrafana(tokens: { editor: string; viewer?: string }): Promise<FakeGrafana> {
  const requests: RecordedRequest[] = [];
  const folders: StoredFolder[] = [];
  const dashboards = new Map<string, StoredDashboard>();
  let nextId = 1;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body: unknown = raw === '' ? undefined : JSON.parse(raw);
      const url = new URL(req.url ?? '/', 'http://grafana');
      const method = req.method ?? 'GET';
      requests.push({ method, path: url.pathname + url.search, authorization: req.headers.authorization, body });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify(payload));
      };

      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (token !== tokens.editor && token !== tokens.viewer) return send(401, { message: 'Unauthorized' });
      const canWrite = token === tokens.editor;

      if (method === 'GET' && url.pathname === '/api/folders') {
        return send(
          200,
          folders.map(({ id, uid, title }) => ({ id, uid, title })),
        );
      }
      if (method === 'POST' && url.pathname === '/api/folders') {
        if (!canWrite) return send(403, { message: 'Access denied' });
        const { uid, title } = body as { uid?: string; title?: string };
        if (!title) return send(400, { message: 'folder title cannot be empty' });
        if (folders.some((f) => f.title === title || (uid !== undefined && f.uid === uid))) {
          return send(409, { message: 'a folder with the same name already exists' });
        }
        const folder = { id: nextId++, uid: uid ?? `generated${nextId}`, title };
        folders.push(folder);
        return send(200, { ...folder, url: `/dashboards/f/${folder.uid}/${slugOf(title)}`, version: 1 });
      }
      const byUid = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(url.pathname);
      if (method === 'GET' && byUid) {
        const stored = dashboards.get(decodeURIComponent(byUid[1] as string));
        if (!stored) return send(404, { message: 'Dashboard not found' });
        const slug = slugOf(String(stored.dashboard.title));
        return send(200, {
          dashboard: { ...stored.dashboard, id: stored.id, uid: stored.uid, version: stored.version },
          meta: { folderUid: stored.folderUid, url: `/d/${stored.uid}/${slug}`, slug },
        });
      }
      if (method === 'POST' && url.pathname === '/api/dashboards/db') {
        if (!canWrite) return send(403, { message: 'Access denied' });
        const { dashboard, folderUid, overwrite } = body as {
          dashboard?: Record<string, unknown>;
          folderUid?: string;
          overwrite?: boolean;
        };
        if (!dashboard || typeof dashboard.title !== 'string') {
          return send(400, { message: 'Dashboard title cannot be empty' });
        }
        if (folderUid && !folders.some((f) => f.uid === folderUid)) {
          return send(400, { message: 'folder not found' });
        }
        const uid = typeof dashboard.uid === 'string' ? dashboard.uid : `generated${nextId}`;
        const existing = dashboards.get(uid);
        if (existing && overwrite !== true) {
          return send(412, { message: 'A dashboard with the same uid already exists', status: 'name-exists' });
        }
        const stored: StoredDashboard = {
          id: existing?.id ?? nextId++,
          uid,
          folderUid: folderUid ?? '',
          version: (existing?.version ?? 0) + 1,
          dashboard: { ...dashboard },
        };
        dashboards.set(uid, stored);
        const slug = slugOf(dashboard.title);
        return send(200, {
          id: stored.id,
          uid,
          url: `/d/${uid}/${slug}`,
          status: 'success',
          version: stored.version,
          slug,
        });
      }
      return send(404, { message: 'Not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    folders,
    dashboards,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
