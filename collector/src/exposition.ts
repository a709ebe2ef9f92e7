/**
 * Turns gatherings into the Prometheus text format 0.0.4 through prom-client.
 *
 * Every catalog family is a custom metric object whose get() reads the gathering of the current scrape: kernel totals
 * are exported verbatim as counters (never reset-and-incremented), and a series that disappeared from the kernel
 * (a deleted interface) disappears from the output. Names are exactly prefix + catalog name, whatever the scraper
 * asks for: the registry is fixed to the 0.0.4 text format, which adds no _total suffix.
 *
 * With --compat retina the families of each scrape pass through compat-retina.ts on their way out (Retina's label
 * values, one family moved): the only place compat mode acts.
 */
import type { MetricValue } from 'prom-client';
import Registry from 'prom-client/lib/registry';
import { LABEL, METRICS, METRIC_KEYS, metricName, type MetricKey } from './catalog';
import type { BuildInfo } from './build-info';
import { RETINA_FAMILY_TYPES, toRetinaFamilies } from './compat-retina';
import type { CollectorConfig } from './config';
import type { Gatherer, Gathering } from './gatherer';

export const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export interface ScrapeResult {
  readonly text: string;
  readonly gathering: Gathering;
}

/** Series of the collector's own health, derived from a gathering. */
function selfSamples(key: MetricKey, gathering: Gathering, buildInfo: BuildInfo): MetricValue<string>[] {
  switch (key) {
    case 'buildInfo':
      return [{ labels: { ...buildInfo }, value: 1 }];
    case 'sourceUp':
      return gathering.sources.map((s) => ({ labels: { [LABEL.source]: s.name }, value: s.up ? 1 : 0 }));
    case 'sourceCollectionDuration':
      return gathering.sources.map((s) => ({ labels: { [LABEL.source]: s.name }, value: s.durationSeconds }));
    case 'sourceLostEvents':
      // Only sources that can lose events have the series (Source.lostEvents).
      return gathering.sources.flatMap((s) =>
        s.lostEvents === undefined ? [] : [{ labels: { [LABEL.source]: s.name }, value: s.lostEvents }],
      );
    default:
      return (gathering.samples[key] ?? []) as MetricValue<string>[];
  }
}

export class Exposition {
  /** Default content type: Prometheus text 0.0.4, never OpenMetrics (which would rename counters to *_total). */
  readonly registry = new Registry();
  /** Each family's series in the scrape being serialised, computed once per scrape. */
  private current = new Map<MetricKey, MetricValue<string>[]>();
  private inFlight: Promise<ScrapeResult> | undefined;
  /** The last result, answered again while its gathering is reused (see Gatherer.recent). */
  private last: ScrapeResult | undefined;
  private readonly families: [MetricKey, string][] = [];
  /**
   * node_name (and cluster), written after each series' own labels. Handed to prom-client as every series'
   * `sharedLabels`, which it formats once per object and remembers, instead of as the registry's default labels,
   * which it merges into a new label object and formats again for every series of every scrape (about a fifth of a
   * scrape's garbage at 1k sockets; bench/RESULTS.md). The output is the same text.
   */
  private readonly nodeLabels: Readonly<Record<string, string>>;
  private readonly retina: boolean;
  private readonly reuseSeconds: number;

  constructor(
    private readonly gatherer: Gatherer,
    config: Pick<CollectorConfig, 'metricPrefix' | 'nodeName' | 'cluster' | 'compat' | 'scrapeReuseSeconds'>,
    private readonly buildInfo: BuildInfo,
  ) {
    this.retina = config.compat === 'retina';
    this.reuseSeconds = config.scrapeReuseSeconds;
    const nodeLabels: Record<string, string> = { [LABEL.nodeName]: config.nodeName };
    if (config.cluster !== undefined) nodeLabels[LABEL.cluster] = config.cluster;
    this.nodeLabels = Object.freeze(nodeLabels);
    for (const key of METRIC_KEYS) {
      const definition = METRICS[key];
      const name = metricName(definition, config.metricPrefix);
      const type = (this.retina ? RETINA_FAMILY_TYPES[key] : undefined) ?? definition.type;
      const metric = {
        name,
        help: definition.help,
        type,
        get: async () => ({
          name,
          help: definition.help,
          type,
          aggregator: 'sum',
          values: this.current.get(key) ?? [],
        }),
      };
      this.registry.registerMetric(metric as never);
      this.families.push([key, name]);
    }
  }

  /**
   * Gathers and serialises once; concurrent scrapes share the same result, and scrapes within the reuse window
   * (--scrape-reuse-window) after a gathering get that gathering's text again.
   */
  scrape(): Promise<ScrapeResult> {
    if (!this.inFlight) {
      this.inFlight = this.scrapeNow().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  private async scrapeNow(): Promise<ScrapeResult> {
    const gathering = await this.gatherer.recent(this.reuseSeconds);
    if (this.last?.gathering === gathering) return this.last;
    const gathered = new Map(this.families.map(([key]) => [key, selfSamples(key, gathering, this.buildInfo)]));
    const families = this.retina ? toRetinaFamilies(gathered) : gathered;
    this.current = new Map();
    for (const [key, values] of families) this.current.set(key, this.withNodeLabels(values));
    // Families with no series on this node (Windows-only ones on Linux, a source that is down) are left out rather
    // than written as bare HELP/TYPE lines.
    const texts: string[] = [];
    for (const [key, name] of this.families) {
      if ((this.current.get(key) ?? []).length === 0) continue;
      texts.push(await this.registry.getSingleMetricAsString(name));
    }
    this.last = { text: `${texts.join('\n')}\n`, gathering };
    return this.last;
  }

  /** The series of one family with the node labels as prom-client's shared labels (see `nodeLabels`). */
  private withNodeLabels(values: readonly MetricValue<string>[]): MetricValue<string>[] {
    const sharedLabels = this.nodeLabels;
    const out = new Array<MetricValue<string>>(values.length);
    for (let i = 0; i < values.length; i++) {
      const { labels, value } = values[i]!;
      out[i] = { labels, value, sharedLabels } as MetricValue<string>;
    }
    return out;
  }
}
