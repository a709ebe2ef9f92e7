/**
 * `kappie snapshot --json`: one gathering in the names a user knows from /metrics, not the collector's internal keys.
 * Pure: gathering in, JSON value out, and back (tests and scripts read the output with `parseSnapshotJson`).
 *
 * Shape (version 1):
 *   {
 *     "version": 1,
 *     "gathered_at": "2026-01-01T00:00:00.000Z",
 *     "metrics": { "<catalog name, e.g. udp_active_sockets>": [ { "labels": { ... }, "value": 12 } ], ... },
 *     "sources": [ { "name": "sockstat", "up": true, "reason": null, "collection_duration_seconds": 0.003,
 *                    "lost_events": null, "description": "..." } ]
 *   }
 * Metric names are the catalog's, without the prefix (the prefix is a property of the exposition); labels are the
 * metric's catalog labels, node_name and cluster excluded. A metric no source filled is absent.
 */
import { METRICS, METRIC_KEYS, type MetricKey } from './catalog';
import type { Gathering, SourceStatus } from './gatherer';
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
  /** kappie_source_lost_events; null for a source that cannot lose events (no series either). */
  readonly lost_events: number | null;
  readonly description: string;
}

export interface SnapshotJson {
  readonly version: typeof SNAPSHOT_JSON_VERSION;
  /** When the gathering finished, ISO 8601 UTC. */
  readonly gathered_at: string;
  readonly metrics: Readonly<Record<string, readonly SampleView[]>>;
  readonly sources: readonly SnapshotSourceJson[];
}

/** The JSON value of a gathering (metrics in catalog order). */
export function snapshotJson(gathering: Gathering): SnapshotJson {
  const metrics: Record<string, readonly SampleView[]> = {};
  for (const key of METRIC_KEYS) {
    const samples = gathering.samples[key];
    if (samples && samples.length > 0) metrics[METRICS[key].name] = samples;
  }
  return {
    version: SNAPSHOT_JSON_VERSION,
    gathered_at: new Date(gathering.at).toISOString(),
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

/**
 * The gathering a `snapshot --json` output holds. Throws when the text is not that output (another version, an
 * unknown metric name): a reader must not silently lose data.
 */
export function parseSnapshotJson(text: string): Gathering {
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
  return { samples: samples as Samples, sources, at: Date.parse(value.gathered_at) };
}
