/**
 * Turns gatherings into the Prometheus text format 0.0.4 (text-exposition.ts writes it).
 *
 * Every catalog family is written from the gathering of the current scrape: kernel totals are exported verbatim as
 * counters (never reset-and-incremented), and a series that disappeared from the kernel (a deleted interface)
 * disappears from the output. Names are exactly prefix + catalog name, whatever the scraper asks for: the answer is
 * always the 0.0.4 text format, which adds no _total suffix (OpenMetrics would).
 *
 * With --compat retina the families of each scrape pass through compat-retina.ts on their way out (Retina's label
 * values, one family moved): the only place compat mode acts.
 */
import { LABEL, METRICS, METRIC_KEYS, metricName, type MetricKey } from './catalog';
import type { BuildInfo } from './build-info';
import { RETINA_FAMILY_TYPES, toRetinaFamilies } from './compat-retina';
import type { CollectorConfig } from './config';
import type { Gatherer, Gathering } from './gatherer';
import type { SampleView } from './source';
import { appendFamily, familyText, labelPairs, type FamilyText } from './text-exposition';

/** The answer's Content-Type: Prometheus text 0.0.4, never OpenMetrics (which would rename counters to *_total). */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface ScrapeResult {
  readonly text: string;
  readonly gathering: Gathering;
}

/** A family without series (shared: never written to). */
const NO_SAMPLES: readonly SampleView[] = Object.freeze([]);

/**
 * The largest array made at its size: V8 makes `new Array(n)` a slow dictionary from 100000 elements on (its
 * kInitialMaxFastElementArray); beyond this the array grows as it is written.
 */
const MAX_PRESIZED_PIECES = 65536;

/** Series of the collector's own health, derived from a gathering. */
function selfSamples(key: MetricKey, gathering: Gathering, buildInfo: BuildInfo): readonly SampleView[] {
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
      return gathering.samples[key] ?? NO_SAMPLES;
  }
}

/** One catalog family as the exposition writes it. */
interface Family {
  readonly key: MetricKey;
  readonly text: FamilyText;
}

export class Exposition {
  private inFlight: Promise<ScrapeResult> | undefined;
  /** The last result, answered again while its gathering is reused (see Gatherer.recent). */
  private last: ScrapeResult | undefined;
  /** Every catalog family in catalog order, the order of the output. */
  private readonly families: readonly Family[];
  private readonly retina: boolean;
  private readonly reuseSeconds: number;
  /**
   * The pieces of the previous answer (text-exposition.ts): the next answer's array is made that size at once, as
   * the series of one gathering are mostly those of the previous one. Grown piece by piece instead, the array was
   * copied over ~3 times its size at every scrape (measured for issue 17).
   */
  private pieceCount = 0;

  constructor(
    private readonly gatherer: Gatherer,
    config: Pick<CollectorConfig, 'metricPrefix' | 'nodeName' | 'cluster' | 'compat' | 'scrapeReuseSeconds'>,
    private readonly buildInfo: BuildInfo,
  ) {
    this.retina = config.compat === 'retina';
    this.reuseSeconds = config.scrapeReuseSeconds;
    const nodeLabels: Record<string, string> = { [LABEL.nodeName]: config.nodeName };
    if (config.cluster !== undefined) nodeLabels[LABEL.cluster] = config.cluster;
    // Written after each series' own labels, `node_name="n",cluster="c"`: formatted once, here.
    const nodeLabelText = labelPairs(nodeLabels);
    this.families = METRIC_KEYS.map((key) => {
      const definition = METRICS[key];
      const name = metricName(definition, config.metricPrefix);
      const type = (this.retina ? RETINA_FAMILY_TYPES[key] : undefined) ?? definition.type;
      return { key, text: familyText(name, definition.help, type, definition.labels, nodeLabelText) };
    });
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
    const retina = this.retina ? this.retinaFamilies(gathering) : undefined;
    const families = this.families;
    // Families with no series on this node (Windows-only ones on Linux, a source that is down) are left out rather
    // than written as bare HELP/TYPE lines (appendFamily).
    const pieces = new Array<string>(Math.min(this.pieceCount, MAX_PRESIZED_PIECES));
    let count = 0;
    for (let i = 0; i < families.length; i++) {
      const { key, text } = families[i]!;
      const samples = retina === undefined ? selfSamples(key, gathering, this.buildInfo) : retina.get(key);
      if (samples !== undefined) count = appendFamily(pieces, count, text, samples);
    }
    // Fewer pieces than the previous answer: the unused end goes (in place), so join sees no holes.
    pieces.length = count;
    this.pieceCount = count;
    this.last = { text: pieces.join(''), gathering };
    return this.last;
  }

  /** Every family of a gathering as --compat retina writes it (compat-retina.ts). */
  private retinaFamilies(gathering: Gathering): ReadonlyMap<MetricKey, readonly SampleView[]> {
    return toRetinaFamilies(
      new Map(this.families.map(({ key }) => [key, selfSamples(key, gathering, this.buildInfo)] as const)),
    );
  }
}
