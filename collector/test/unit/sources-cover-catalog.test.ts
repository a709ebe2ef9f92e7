import { METRICS, NETWORK_METRIC_KEYS, type Platform } from '../../src/catalog';
import { createSources } from '../../src/sources';

describe('sources and the catalog', () => {
  it.each<Platform>(['linux', 'windows'])('every %s metric of the catalog is filled by a %s source', (platform) => {
    const unfilled = NETWORK_METRIC_KEYS.filter(
      (key) =>
        (METRICS[key].platforms as readonly Platform[]).includes(platform) &&
        !createSources().some((source) => source.platforms.includes(platform) && source.metrics.includes(key)),
    );
    expect(unfilled).toEqual([]);
  });

  it('claims no metric for a platform the catalog does not list it on', () => {
    for (const source of createSources()) {
      for (const key of source.metrics) {
        for (const platform of source.platforms) {
          expect({
            source: source.name,
            metric: key,
            platform,
            listed: (METRICS[key].platforms as readonly Platform[]).includes(platform),
          }).toMatchObject({ listed: true });
        }
      }
    }
  });

  it('gives every source a unique name', () => {
    const names = createSources().map((source) => source.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
