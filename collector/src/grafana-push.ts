/**
 * `kappie dashboards push`: creates or updates Kappie's dashboards in a Grafana through its HTTP API, for Grafanas
 * that cannot load the app plugin (Azure Managed Grafana above all).
 *
 * Contract used (Grafana HTTP API docs, "Dashboard API" and "Folder API"): `GET /api/folders` lists folders,
 * `POST /api/folders {uid,title}` creates one (409 when it exists), `GET /api/dashboards/uid/:uid` returns
 * `{dashboard, meta: {folderUid}}` or 404, `POST /api/dashboards/db {dashboard, folderUid, overwrite, message}`
 * saves one and answers `{status: "success", uid, url, version}`. Authentication: `Authorization: Bearer <token>`
 * (a service account token, or an Entra ID token on Azure Managed Grafana).
 *
 * Idempotent: a dashboard whose stored `revision` and folder already match is left alone ("unchanged"), so a re-run
 * does not add a version to its history; `force` saves anyway (to undo edits made in the UI).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from './errors';

/** The repository's generated dashboards, as seen from collector/src or collector/dist. */
export const DEFAULT_DASHBOARDS_DIR = resolve(__dirname, '..', '..', 'dashboards', 'generated');
export const DEFAULT_FOLDER = 'Kappie';
const REQUEST_TIMEOUT_MS = 30_000;

export interface DashboardFile {
  readonly file: string;
  readonly uid: string;
  readonly title: string;
  readonly revision: number;
  readonly json: Record<string, unknown>;
}

export interface PushOptions {
  /** Grafana root URL, e.g. https://my-grafana-abcd.weu.grafana.azure.com */
  readonly url: string;
  readonly token: string;
  readonly folder?: string;
  readonly dir?: string;
  readonly force?: boolean;
  /** Called once per dashboard with a line saying what happened. */
  readonly report?: (line: string) => void;
}

export type PushOutcome = 'created' | 'updated' | 'unchanged';
export interface PushResult {
  readonly uid: string;
  readonly title: string;
  readonly outcome: PushOutcome;
  /** Full URL of the dashboard in Grafana. */
  readonly url: string;
}

/** A push that could not be done, with what to check; the CLI prints the message on one line. */
export class GrafanaPushError extends Error {
  override readonly name = 'GrafanaPushError';
}

/** Reads every dashboard JSON of a directory; each must carry a uid, a title and a revision. */
export function readDashboardFiles(dir: string): DashboardFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    throw new ConfigError('--dir', `cannot read the dashboards directory ${dir} (expected dashboards/generated)`);
  }
  if (names.length === 0) throw new ConfigError('--dir', `no dashboard JSON files in ${dir}`);
  return names.sort().map((name) => {
    const file = join(dir, name);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError('--dir', `${file} is not valid JSON: ${(error as Error).message}`);
    }
    const { uid, title, revision } = json;
    if (typeof uid !== 'string' || typeof title !== 'string' || typeof revision !== 'number') {
      throw new ConfigError('--dir', `${file} is not a Kappie dashboard (it needs a uid, a title and a revision)`);
    }
    return { file, uid, title, revision, json };
  });
}

/** Grafana uids allow letters, digits, - and _, 40 characters at most. */
export function folderUidFor(title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return (slug || 'kappie').slice(0, 40);
}

export function normaliseGrafanaUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('--url', `"${raw}" is not a URL (expected e.g. https://my-grafana.weu.grafana.azure.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('--url', `"${raw}" must start with http:// or https://`);
  }
  return url.toString().replace(/\/+$/, '');
}

class GrafanaClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** Returns the parsed body of a 2xx answer, or `undefined` for the statuses the caller accepts. */
  async request<T>(method: string, path: string, body?: unknown, accept: number[] = []): Promise<T | undefined> {
    const target = `${this.baseUrl}${path}`;
    let response: Response;
    try {
      response = await fetch(target, {
        method,
        headers: {
          Authorization: `Bearer ${this.token}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new GrafanaPushError(`cannot reach Grafana at ${this.baseUrl}: ${networkReason(error)}`);
    }
    const text = await response.text();
    if (accept.includes(response.status)) return undefined;
    if (!response.ok) throw new GrafanaPushError(this.explain(response.status, method, path, text));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new GrafanaPushError(
        `${method} ${target} answered ${response.status} with a body that is not JSON: is --url the Grafana root?`,
      );
    }
  }

  private explain(status: number, method: string, path: string, body: string): string {
    const message = grafanaMessage(body);
    const where = `${method} ${this.baseUrl}${path}`;
    switch (status) {
      case 401:
        return (
          `Grafana rejected the token (401 Unauthorized) for ${where}: check --token is a valid, unexpired ` +
          `service account token of this Grafana${message ? ` (${message})` : ''}`
        );
      case 403:
        return (
          `the token is not allowed to do this (403 Forbidden) for ${where}: give its service account the Editor ` +
          `role, or write access to the folder${message ? ` (${message})` : ''}`
        );
      case 404:
        return (
          `Grafana answered 404 Not Found for ${where}: check --url is the Grafana root URL (no path such as /d/...)` +
          `${message ? ` (${message})` : ''}`
        );
      case 412:
        return `Grafana refused the dashboard (412 Precondition Failed) for ${where}: ${message || body}`;
      default:
        return `Grafana answered ${status} for ${where}${message ? `: ${message}` : ''}`;
    }
  }
}

function grafanaMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; status?: unknown };
    const parts = [parsed.message, parsed.status].filter((p): p is string => typeof p === 'string' && p !== '');
    return parts.join(', ');
  } catch {
    return body.trim().slice(0, 200);
  }
}

function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

interface FolderSummary {
  uid: string;
  title: string;
}

async function ensureFolder(client: GrafanaClient, title: string): Promise<string> {
  const find = async () =>
    ((await client.request<FolderSummary[]>('GET', '/api/folders?limit=1000')) ?? []).find((f) => f.title === title);
  const existing = await find();
  if (existing) return existing.uid;
  const created = await client.request<FolderSummary>(
    'POST',
    '/api/folders',
    { uid: folderUidFor(title), title },
    [409],
  );
  if (created) return created.uid;
  // 409: a folder with that uid or title appeared meanwhile (or has another title): use it if it is ours.
  const raced = await find();
  if (raced) return raced.uid;
  throw new GrafanaPushError(
    `Grafana has a folder with uid "${folderUidFor(title)}" but another title: choose another --folder name`,
  );
}

interface StoredDashboard {
  dashboard: { revision?: number };
  meta: { folderUid?: string };
}
interface SaveAnswer {
  status: string;
  uid: string;
  url: string;
  version: number;
}

export async function pushDashboards(options: PushOptions): Promise<PushResult[]> {
  const baseUrl = normaliseGrafanaUrl(options.url);
  if (options.token.trim() === '') throw new ConfigError('--token', 'is empty (a Grafana service account token)');
  const dashboards = readDashboardFiles(options.dir ?? DEFAULT_DASHBOARDS_DIR);
  const client = new GrafanaClient(baseUrl, options.token.trim());
  const folderUid = await ensureFolder(client, options.folder ?? DEFAULT_FOLDER);

  const results: PushResult[] = [];
  for (const dashboard of dashboards) {
    const stored = await client.request<StoredDashboard>(
      'GET',
      `/api/dashboards/uid/${encodeURIComponent(dashboard.uid)}`,
      undefined,
      [404],
    );
    const upToDate =
      stored !== undefined &&
      stored.dashboard.revision === dashboard.revision &&
      stored.meta.folderUid === folderUid &&
      options.force !== true;
    let outcome: PushOutcome = 'unchanged';
    let path = `/d/${dashboard.uid}`;
    if (!upToDate) {
      const saved = await client.request<SaveAnswer>('POST', '/api/dashboards/db', {
        dashboard: { ...dashboard.json, id: null },
        folderUid,
        overwrite: true,
        message: `kappie dashboards push: revision ${dashboard.revision}`,
      });
      if (saved?.status !== 'success') {
        throw new GrafanaPushError(`Grafana did not save ${dashboard.title}: status ${String(saved?.status)}`);
      }
      outcome = stored === undefined ? 'created' : 'updated';
      path = saved.url;
    }
    const result = { uid: dashboard.uid, title: dashboard.title, outcome, url: `${baseUrl}${path}` };
    options.report?.(`${outcome.padEnd(9)} ${result.title} (revision ${dashboard.revision}) ${result.url}`);
    results.push(result);
  }
  return results;
}
