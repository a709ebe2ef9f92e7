/**
 * `kappie snapshot` next to a serving collector: where to find it, reading its /metrics, and turning its exposition
 * back into a gathering (catalog metrics and source statuses), so the snapshot shows THAT collector's totals instead
 * of counting a second time. The reading is I/O; `gatheringFromExposition` is pure.
 *
 * Where: `--from URL`, else the address `kappie serve` listens on in this container or node: KAPPIE_LISTEN as the
 * serving container sets it (a `kubectl exec` inherits it), else serve's default port, on the loopback address.
 * TLS: an https URL is verified against Node's CA store (add a private CA with NODE_EXTRA_CA_CERTS); basic auth: the
 * user and password in the URL (https://user:password@host:port/metrics). Client certificates are not offered.
 */
import { LABEL, METRICS, NETWORK_METRIC_KEYS, type MetricKey } from './catalog';
import { parseListen } from './config';
import { ConfigError, describeError, ParseError } from './errors';
import type { Gathering, SourceStatus } from './gatherer';
import { isListening } from './kernel/tcp-listeners';
import { parsePrometheusText, type TextFamily } from './prometheus-text';
import type { SampleView, Samples } from './source';
import { DROPS_SOURCE_NAME, KERNEL_COUNTERS_STATUS, TRACEFS_EVENTS_STATUS } from './sources/linux/drops/drops-source';

/** `kappie serve`'s default --listen port. */
export const DEFAULT_SERVE_PORT = 10093;
/** How long the collector has to answer: a gathering takes well under a second on a busy node. */
export const SCRAPE_TIMEOUT_MS = 10_000;
/** `--from none`: gather here even when a collector serves. */
export const FROM_NONE = 'none';

/** A failure to read a collector that was asked for (or that answers at the default address but not as one). */
export class ServingCollectorError extends Error {
  override readonly name = 'ServingCollectorError';
}

/** Where to read a collector, and whether the user named it (a named one must answer). */
export interface CollectorTarget {
  /** The URL fetched (credentials removed: they travel in the Authorization header). */
  readonly url: string;
  readonly authorization: string | undefined;
  readonly named: boolean;
  /** The port `kappie serve` would listen on, for a target that was not named. */
  readonly port?: number;
}

/**
 * The collector to read: `--from` (an http(s) URL, or `none` for no collector), else the loopback address of the
 * port `kappie serve` listens on (`listenEnv`: KAPPIE_LISTEN as the serving container sets it; a host address is used
 * as is). Throws ConfigError for a `--from` that is not a URL, or a KAPPIE_LISTEN that is not HOST:PORT.
 */
export function collectorTarget(from: string | undefined, listenEnv: string | undefined): CollectorTarget | undefined {
  if (from !== undefined) {
    if (from.trim() === FROM_NONE) return undefined;
    let url: URL;
    try {
      url = new URL(from.trim());
    } catch {
      throw new ConfigError(
        '--from',
        `"${from}" is not a URL (example: http://127.0.0.1:${DEFAULT_SERVE_PORT}/metrics)`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError('--from', `"${from}" is not an http or https URL`);
    }
    const authorization =
      url.username !== ''
        ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
        : undefined;
    url.username = '';
    url.password = '';
    if (url.pathname === '/') url.pathname = '/metrics';
    return { url: url.toString(), authorization, named: true };
  }
  const listen = parseListen(listenEnv ?? `:${DEFAULT_SERVE_PORT}`, 'KAPPIE_LISTEN');
  const loopback = listen.host.includes(':') ? '::1' : '127.0.0.1';
  const everyAddress = listen.host === '' || listen.host === '0.0.0.0' || listen.host === '::';
  const host = everyAddress ? loopback : listen.host;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}/metrics`,
    authorization: undefined,
    named: false,
    port: listen.port,
  };
}

/** Errors that mean nothing listens there (as opposed to something answering badly). */
const NOTHING_LISTENS = new Set(['ECONNREFUSED', 'EADDRNOTAVAIL', 'ENETUNREACH', 'EHOSTUNREACH']);

function causeCode(error: unknown): string | undefined {
  return (error as { cause?: { code?: string } }).cause?.code;
}

/**
 * The text of the collector's /metrics and when it arrived; undefined when nothing listens at a default address.
 * Where nothing listens on the port (the socket tables say so) no connection is even tried: the refused attempt
 * would move the TCP counters the snapshot reports (AttemptFails, OutRsts).
 */
export async function fetchExposition(
  target: CollectorTarget,
): Promise<{ readonly text: string; readonly at: number } | undefined> {
  if (!target.named && target.port !== undefined && isListening(target.port) === false) return undefined;
  let response: Response;
  try {
    response = await fetch(target.url, {
      headers: target.authorization ? { Authorization: target.authorization } : {},
      signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS),
    });
  } catch (error) {
    const code = causeCode(error);
    if (!target.named && code !== undefined && NOTHING_LISTENS.has(code)) return undefined;
    throw new ServingCollectorError(
      `cannot read the collector at ${target.url}: ${whyFetchFailed(error, target.url)}${unreachableHint(error, target)}`,
    );
  }
  const text = await response.text();
  if (!response.ok) {
    const auth = response.status === 401 ? ' (basic auth: put the user and password in the URL)' : '';
    throw new ServingCollectorError(
      `the collector at ${target.url} answered ${response.status} ${response.statusText}${auth}${hint(target)}`,
    );
  }
  return { text, at: Date.now() };
}

/**
 * Why fetch() failed, in words: a timeout, the error code of the connection (ECONNREFUSED, ...), or fetch's own
 * refusal of a port the Fetch standard blocks ("bad port": 1, 25, 6000, ... as browsers do), which it words too
 * tersely to act on.
 */
function whyFetchFailed(error: unknown, url: string): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${SCRAPE_TIMEOUT_MS / 1000} s`;
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message === 'bad port') {
    return (
      `fetch refuses port ${new URL(url).port} (one of the ports the Fetch standard blocks, as browsers do): ` +
      `serve the collector on another port (kappie serve --listen :${DEFAULT_SERVE_PORT})`
    );
  }
  return causeCode(error) ?? describeError(cause ?? error);
}

function hint(target: CollectorTarget): string {
  return target.named ? '' : `; name the collector with --from URL, or gather here with --from ${FROM_NONE}`;
}

/** What to do when the collector --from names cannot be reached: nothing listens there, or it is not up yet. */
function unreachableHint(error: unknown, target: CollectorTarget): string {
  const code = causeCode(error);
  if (!target.named || code === undefined || !NOTHING_LISTENS.has(code)) return hint(target);
  return `: nothing listens there (is \`kappie serve\` running, on that address?); to count here instead, use --from ${FROM_NONE}`;
}

/** The metric-name prefix of an exposition: what precedes `source_up`, which every Kappie collector exports. */
function prefixOf(families: readonly TextFamily[]): string | undefined {
  const suffix = METRICS.sourceUp.name;
  const family = families.find((f) => f.name.endsWith(suffix) && f.samples.length > 0);
  return family?.name.slice(0, family.name.length - suffix.length);
}

/** A series' labels without the ones every series carries (node_name, cluster). */
function ownLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const { [LABEL.nodeName]: _node, [LABEL.cluster]: _cluster, ...rest } = labels;
  return rest;
}

/** The source (as --sources selects it) of a status name: drop_reasons and drop_counters are strategies of drops. */
function sourceOfStatus(status: string): string {
  return status === TRACEFS_EVENTS_STATUS || status === KERNEL_COUNTERS_STATUS ? DROPS_SOURCE_NAME : status;
}

/**
 * The families of `text`, or a ServingCollectorError saying that `url` does not serve Prometheus metrics at all
 * (a health endpoint's "ok", an HTML page): the parser's own message names a line and a token, which says nothing to
 * someone who gave the wrong URL, so it follows as the detail.
 */
function prometheusFamilies(text: string, url: string): TextFamily[] {
  try {
    return parsePrometheusText(text, url);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    const line = error.lineNumber === undefined ? '' : `line ${error.lineNumber}: `;
    throw new ServingCollectorError(
      `${url} does not serve Prometheus metrics: its answer is not in the Prometheus text format (${line}` +
        `${error.detail}); a Kappie collector serves them at ${new URL('/metrics', url).toString()}`,
    );
  }
}

/**
 * The gathering a Kappie collector's exposition holds: each catalog metric found under the collector's prefix, and a
 * status per kappie_source_up series (with its collection duration and lost events; the reason of a source that is
 * down is on the collector's status page, not in /metrics). `describe` gives a source's description by name.
 * Throws ServingCollectorError when the text is not Prometheus metrics, or not a Kappie collector's (no source_up
 * family).
 */
export function gatheringFromExposition(
  text: string,
  url: string,
  at: number,
  describe: (source: string) => string = () => '',
): { gathering: Gathering; metricPrefix: string; nodeName: string | undefined } {
  const families = prometheusFamilies(text, url);
  const prefix = prefixOf(families);
  if (prefix === undefined) {
    throw new ServingCollectorError(
      `${url} is not a Kappie collector's /metrics: it has no *${METRICS.sourceUp.name} family`,
    );
  }
  const byName = new Map(families.map((family) => [family.name, family]));
  const seriesOf = (key: MetricKey): SampleView[] =>
    (byName.get(`${prefix}${METRICS[key].name}`)?.samples ?? []).map((s) => ({
      labels: ownLabels(s.labels),
      value: s.value,
    }));
  const samples: Partial<Record<MetricKey, SampleView[]>> = {};
  // The network metrics as a gathering has them; the collector's own health becomes `sources`, as in a gathering.
  for (const key of NETWORK_METRIC_KEYS) {
    const list = seriesOf(key);
    if (list.length > 0) samples[key] = list;
  }
  const perSource = (key: MetricKey) =>
    new Map(seriesOf(key).map((s) => [s.labels[LABEL.source] ?? '', s.value] as const));
  const durations = perSource('sourceCollectionDuration');
  const lost = perSource('sourceLostEvents');
  const sources: SourceStatus[] = seriesOf('sourceUp').map((s) => {
    const name = s.labels[LABEL.source] ?? '';
    const source = sourceOfStatus(name);
    const lostEvents = lost.get(name);
    return {
      name,
      source,
      description: describe(source),
      up: s.value === 1,
      reason: undefined,
      durationSeconds: durations.get(name) ?? 0,
      // Exported only by a source that can lose events; absent elsewhere, as in the collector's own gathering.
      ...(lostEvents === undefined ? {} : { lostEvents }),
    };
  });
  const anySeries = families.find((f) => f.name.startsWith(prefix) && f.samples.length > 0)?.samples[0];
  return {
    gathering: { samples: samples as Samples, sources, at },
    metricPrefix: prefix,
    nodeName: anySeries?.labels[LABEL.nodeName],
  };
}
