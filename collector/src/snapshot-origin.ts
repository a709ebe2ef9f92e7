/**
 * Where the numbers of a `kappie snapshot` came from: a serving collector's /metrics (its totals), or a gathering of
 * the snapshot's own, whose drops were counted over a window in a tracefs instance of its own or read from the
 * kernel's counters. Shown above the tables and carried in the JSON, so no number is read without its provenance.
 */

/** How a local snapshot counted drops. */
export type LocalDrops =
  | {
      /** skb:kfree_skb events in the snapshot's own tracefs instance, over a window. */
      readonly countedBy: 'tracefs_events';
      readonly tracefsInstance: string;
      /** The --duration asked for, in seconds. */
      readonly windowSeconds: number;
      /** When counting started and ended (ms since epoch). */
      readonly from: number;
      readonly to: number;
    }
  | {
      /**
       * The kernel's drop counters, totals since boot: Linux procfs (--duration 0, --drop-reader counters, or no
       * tracefs), or Windows' Hyper-V and VFP counters.
       */
      readonly countedBy: 'kernel_counters';
      /** Why the counters: the --duration 0 or --drop-reader counters asked for them, or tracefs could not count. */
      readonly why: string;
    }
  | {
      /** The drops source did not run (--sources) or was down (its reason is in the sources table). */
      readonly countedBy: 'none';
    };

export type SnapshotOrigin =
  | {
      readonly kind: 'collector';
      /** The /metrics URL read (without credentials). */
      readonly url: string;
      /** When the response arrived (ms since epoch). */
      readonly scrapedAt: number;
      /** The prefix of the collector's metric names (kappie_, or networkobservability_ in --compat retina). */
      readonly metricPrefix: string;
      /** The collector's node_name label, when it has one. */
      readonly nodeName: string | undefined;
    }
  | {
      readonly kind: 'local';
      /** The address where no collector answered (undefined with --from none). */
      readonly lookedFor: string | undefined;
      readonly drops: LocalDrops;
    };
