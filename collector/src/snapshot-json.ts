/**
 * `kappie snapshot --json`: one gathering in the names a user knows from /metrics, not the collector's internal keys.
 * Pure: gathering in, JSON value out, and back (tests and scripts read the output with `parseSnapshotJson`).
 *
 * Shape (version 1):
 *   {
 *     "version": 1,
 *     "gathered_at": "2026-01-01T00:00:00.000Z",
 *     "origin": { "kind": "collector", "url": "http://127.0.0.1:10093/metrics", "scraped_at": "...",
 *                 "metric_prefix": "kappie_", "node_name": "aks-node-1" }
 *            or { "kind": "local", "looked_for": "http://127.0.0.1:10093/metrics" | null,
 *                 "drops": { "counted_by": "tracefs_events", "tracefs_instance": "kappie-snapshot",
 *                            "window_seconds": 10, "from": "...", "to": "..." }
 *                        | { "counted_by": "kernel_counters", "why": "..." } | { "counted_by": "none" } },
 *     "metrics": { "<catalog name, e.g. udp_active_sockets>": [ { "labels": { ... }, "value": 12 } ], ... },
 *     "sources": [ { "name": "sockstat", "up": true, "reason": null, "collection_duration_seconds": 0.003,
 *                    "lost_events": null, "description": "..." } ]
 *   }
 * Metric names are the catalog's, without the prefix (the prefix is a property of the exposition); labels are the
 * metric's catalog labels, node_name and cluster excluded. A metric no source filled is absent. `origin` says where the
 * numbers came from (snapshot-origin.ts): a serving collector's /metrics, or this snapshot's own gathering and how it
 * counted drops.
 */
import { METRICS, METRIC_KEYS, type MetricKey } from './catalog';
import type { Gathering, SourceStatus } from './gatherer';
import type { LocalDrops, SnapshotOrigin } from './snapshot-origin';
import type { SampleView, Samples } from './source';

export const SNAPSHOT_JSON_VERSION = 1;

export interface SnapshotSourceJson {
  /** kappie_source_up's `source` label. */
  readonly name: string;
  /** The source as --sources selects it (differs from `name` for a source with strategies: drops). */
  readonly source: string;
  readonly up: boolean;
  /** Why it is down, or a note while it is up but partial; null when there is nothing to say. */
  readonly reason: string | null;
  /** kappie_source_collection_duration_seconds. */
  readonly collection_duration_seconds: number;
  /** kappie_source_lost_events_total; null for a source that cannot lose events (no series either). */
  readonly lost_events: number | null;
  readonly description: string;
}

export type SnapshotDropsJson =
  | {
      readonly counted_by: 'tracefs_events';
      readonly tracefs_instance: string;
      readonly window_seconds: number;
      /** ISO 8601 UTC. */
      readonly from: string;
      readonly to: string;
    }
  | { readonly counted_by: 'kernel_counters'; readonly why: string }
  | { readonly counted_by: 'none' };

export type SnapshotOriginJson =
  | {
      readonly kind: 'collector';
      readonly url: string;
      /** ISO 8601 UTC. */
      readonly scraped_at: string;
      readonly metric_prefix: string;
      readonly node_name: string | null;
    }
  | { readonly kind: 'local'; readonly looked_for: string | null; readonly drops: SnapshotDropsJson };

export interface SnapshotJson {
  readonly version: typeof SNAPSHOT_JSON_VERSION;
  /** When the gathering finished (or the collector was scraped), ISO 8601 UTC. */
  readonly gathered_at: string;
  readonly origin: SnapshotOriginJson;
  readonly metrics: Readonly<Record<string, readonly SampleView[]>>;
  readonly sources: readonly SnapshotSourceJson[];
}

function dropsJson(drops: LocalDrops): SnapshotDropsJson {
  switch (drops.countedBy) {
    case 'tracefs_events':
      return {
        counted_by: drops.countedBy,
        tracefs_instance: drops.tracefsInstance,
        window_seconds: drops.windowSeconds,
        from: new Date(drops.from).toISOString(),
        to: new Date(drops.to).toISOString(),
      };
    case 'kernel_counters':
      return { counted_by: drops.countedBy, why: drops.why };
    case 'none':
      return { counted_by: drops.countedBy };
  }
}

function originJson(origin: SnapshotOrigin): SnapshotOriginJson {
  if (origin.kind === 'local') {
    return { kind: 'local', looked_for: origin.lookedFor ?? null, drops: dropsJson(origin.drops) };
  }
  return {
    kind: 'collector',
    url: origin.url,
    scraped_at: new Date(origin.scrapedAt).toISOString(),
    metric_prefix: origin.metricPrefix,
    node_name: origin.nodeName ?? null,
  };
}

function originFromJson(json: SnapshotOriginJson): SnapshotOrigin {
  if (json.kind === 'collector') {
    return {
      kind: 'collector',
      url: json.url,
      scrapedAt: Date.parse(json.scraped_at),
      metricPrefix: json.metric_prefix,
      nodeName: json.node_name ?? undefined,
    };
  }
  const drops = json.drops;
  let local: LocalDrops;
  if (drops.counted_by === 'tracefs_events') {
    local = {
      countedBy: drops.counted_by,
      tracefsInstance: drops.tracefs_instance,
      windowSeconds: drops.window_seconds,
      from: Date.parse(drops.from),
      to: Date.parse(drops.to),
    };
  } else if (drops.counted_by === 'kernel_counters') {
    local = { countedBy: drops.counted_by, why: drops.why };
  } else {
    local = { countedBy: drops.counted_by };
  }
  return { kind: 'local', lookedFor: json.looked_for ?? undefined, drops: local };
}

/** The JSON value of a gathering (metrics in catalog order) and where it came from. */
export function snapshotJson(gathering: Gathering, origin: SnapshotOrigin): SnapshotJson {
  const metrics: Record<string, readonly SampleView[]> = {};
  for (const key of METRIC_KEYS) {
    const samples = gathering.samples[key];
    if (samples && samples.length > 0) metrics[METRICS[key].name] = samples;
  }
  return {
    version: SNAPSHOT_JSON_VERSION,
    gathered_at: new Date(gathering.at).toISOString(),
    origin: originJson(origin),
    metrics,
    sources: gathering.sources.map((s) => ({
      name: s.name,
      source: s.source,
      up: s.up,
      reason: s.reason ?? null,
      collection_duration_seconds: s.durationSeconds,
      lost_events: s.lostEvents ?? null,
      description: s.description,
    })),
  };
}

const KEY_BY_NAME: ReadonlyMap<string, MetricKey> = new Map(METRIC_KEYS.map((key) => [METRICS[key].name, key]));

/** The gathering a `snapshot --json` output holds (see readSnapshotJson). */
export function parseSnapshotJson(text: string): Gathering {
  return readSnapshotJson(text).gathering;
}

/**
 * The gathering a `snapshot --json` output holds, and its origin. Throws when the text is not that output (another
 * version, an unknown metric name, no origin): a reader must not silently lose data.
 */
export function readSnapshotJson(text: string): { gathering: Gathering; origin: SnapshotOrigin } {
  const value = JSON.parse(text) as SnapshotJson;
  if (value.version !== SNAPSHOT_JSON_VERSION) {
    throw new Error(`not a kappie snapshot of version ${SNAPSHOT_JSON_VERSION}: version ${String(value.version)}`);
  }
  const samples: Record<string, SampleView[]> = {};
  for (const [name, list] of Object.entries(value.metrics)) {
    const key = KEY_BY_NAME.get(name);
    if (key === undefined) throw new Error(`unknown metric "${name}" in a kappie snapshot`);
    samples[key] = [...list];
  }
  const sources: SourceStatus[] = value.sources.map((s) => ({
    name: s.name,
    source: s.source,
    description: s.description,
    up: s.up,
    reason: s.reason ?? undefined,
    durationSeconds: s.collection_duration_seconds,
    ...(s.lost_events === null ? {} : { lostEvents: s.lost_events }),
  }));
  if (typeof value.origin !== 'object' || value.origin === null)
    throw new Error('a kappie snapshot without its origin');
  return {
    gathering: { samples: samples as Samples, sources, at: Date.parse(value.gathered_at) },
    origin: originFromJson(value.origin),
  };
}
