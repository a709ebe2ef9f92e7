/**
 * The series-birth rule (collector/src/series-birth.ts): a counter series that appears above 0 after a strategy's
 * first gathering is exported at 0 for the hold, then with its value; everything else passes unchanged. The property
 * test plays Prometheus: whatever the gatherings, a scraper that scrapes at least once per hold sees, for a series
 * born above 0, a 0 before its value, and never a fall of a known counter that the source did not make.
 */
import fc from 'fast-check';
import { createSeriesBirths } from '../../src/series-birth';
import { resolveConfig } from '../../src/config';
import { Gatherer } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger } from '../../src/log';
import type { Samples, Source } from '../../src/source';

const drop = (reason: string, value: number, direction = 'ingress') => ({ labels: { reason, direction }, value });
const S = 1000;

describe('series born with a value', () => {
  it('exports the first gathering as it is: kernel totals whose start nobody watched', () => {
    const births = createSeriesBirths({ holdSeconds: 60 });
    const first: Samples = { dropCount: [drop('NO_SOCKET', 500)] };
    expect(births.admit('drops/drop_reasons', first, 0)).toEqual(first);
  });

  it('holds a reason first seen later at 0 for the hold, then exports its value', () => {
    const births = createSeriesBirths({ holdSeconds: 60 });
    births.admit('drops/drop_reasons', { dropCount: [drop('NO_SOCKET', 5)] }, 0);
    const later = (at: number, otherhost: number) =>
      births.admit('drops/drop_reasons', { dropCount: [drop('NO_SOCKET', 9), drop('OTHERHOST', otherhost)] }, at);
    expect(later(10 * S, 300).dropCount).toEqual([drop('NO_SOCKET', 9), drop('OTHERHOST', 0)]);
    expect(births.held('drops/drop_reasons')).toBe(1);
    expect(later(69 * S, 310).dropCount).toEqual([drop('NO_SOCKET', 9), drop('OTHERHOST', 0)]);
    expect(later(70 * S, 320).dropCount).toEqual([drop('NO_SOCKET', 9), drop('OTHERHOST', 320)]);
    expect(later(80 * S, 330).dropCount).toEqual([drop('NO_SOCKET', 9), drop('OTHERHOST', 330)]);
    expect(births.held('drops/drop_reasons')).toBe(0);
  });

  it('knows a series born at 0 at once, and never holds gauges', () => {
    const births = createSeriesBirths({ holdSeconds: 60 });
    births.admit('s', {}, 0);
    expect(births.admit('s', { dropCount: [drop('QDISC_DROP', 0)] }, S).dropCount).toEqual([drop('QDISC_DROP', 0)]);
    expect(births.admit('s', { dropCount: [drop('QDISC_DROP', 7)] }, 2 * S).dropCount).toEqual([drop('QDISC_DROP', 7)]);
    const gauge = { tcpState: [{ labels: { state: 'LISTEN' }, value: 4 }] };
    expect(births.admit('s', gauge, 3 * S)).toEqual(gauge);
  });

  it('keeps a baseline per strategy: a fallback to other counters exports their totals as they are', () => {
    const births = createSeriesBirths({ holdSeconds: 60 });
    births.admit('drops/drop_reasons', { dropCount: [drop('NO_SOCKET', 1)] }, 0);
    const counters = { dropCount: [drop('NETDEV_RX_DROP', 123456)] };
    expect(births.admit('drops/drop_counters', counters, S)).toEqual(counters);
  });

  it('exports a known series that was absent and returns as it is (a failed read must not invent growth)', () => {
    const births = createSeriesBirths({ holdSeconds: 60 });
    births.admit('s', { dropCount: [drop('NO_SOCKET', 50)] }, 0);
    births.admit('s', {}, S);
    expect(births.admit('s', { dropCount: [drop('NO_SOCKET', 60)] }, 2 * S).dropCount).toEqual([drop('NO_SOCKET', 60)]);
  });

  it('starts the hold again for a held series that went absent before the hold ended', () => {
    const births = createSeriesBirths({ holdSeconds: 60 });
    births.admit('s', {}, 0);
    births.admit('s', { dropCount: [drop('OTHERHOST', 3)] }, S);
    births.admit('s', {}, 2 * S);
    expect(births.admit('s', { dropCount: [drop('OTHERHOST', 4)] }, 62 * S).dropCount).toEqual([drop('OTHERHOST', 0)]);
    expect(births.admit('s', { dropCount: [drop('OTHERHOST', 4)] }, 122 * S).dropCount).toEqual([drop('OTHERHOST', 4)]);
  });

  it('exports a held series as read once the kernel itself read 0 (a reset: that 0 is real, nothing is hidden)', () => {
    const births = createSeriesBirths({ holdSeconds: 30 });
    births.admit('s', {}, 0);
    expect(births.admit('s', { dropCount: [drop('X', 1)] }, S).dropCount).toEqual([drop('X', 0)]);
    expect(births.admit('s', { dropCount: [drop('X', 0)] }, 2 * S).dropCount).toEqual([drop('X', 0)]);
    expect(births.admit('s', { dropCount: [drop('X', 1)] }, 3 * S).dropCount).toEqual([drop('X', 1)]);
  });

  it('with hold 0 exports every value at once', () => {
    const births = createSeriesBirths({ holdSeconds: 0 });
    births.admit('s', {}, 0);
    expect(births.admit('s', { dropCount: [drop('OTHERHOST', 3)] }, S).dropCount).toEqual([drop('OTHERHOST', 3)]);
  });

  it('forgets the least recently seen absent label sets beyond its cap (a forgotten one is held again)', () => {
    const births = createSeriesBirths({ holdSeconds: 60, maxRemembered: 2 });
    births.admit('s', { dropCount: [drop('A', 1), drop('B', 1)] }, 0);
    births.admit('s', { dropCount: [drop('B', 1), drop('C', 0)] }, S);
    // A (absent, least recently seen) is forgotten to keep two.
    expect(births.admit('s', { dropCount: [drop('A', 2)] }, 2 * S).dropCount).toEqual([drop('A', 0)]);
    expect(births.admit('s', { dropCount: [drop('B', 2)] }, 3 * S).dropCount).toEqual([drop('B', 2)]);
  });

  it('keeps its rule through label sets churning far beyond its cap (the keys it built are pruned with them)', () => {
    const births = createSeriesBirths({ holdSeconds: 60, maxRemembered: 10 });
    births.admit('s', { dropCount: [drop('KEPT', 5)] }, 0);
    for (let g = 1; g <= 50; g++) {
      // 20 new label sets at 0 per gathering (known at once), forgotten beyond the cap; one born above 0.
      const churn = Array.from({ length: 20 }, (_, i) => drop(`R${g}-${i}`, 0));
      const admitted = births.admit('s', { dropCount: [drop('KEPT', 5 + g), ...churn, drop(`B${g}`, 3)] }, g * S);
      expect(admitted.dropCount![0]).toEqual(drop('KEPT', 5 + g));
      expect(admitted.dropCount![21]).toEqual(drop(`B${g}`, 0));
    }
    // R1-0 was forgotten long ago: back above 0, it is held again.
    expect(births.admit('s', { dropCount: [drop('KEPT', 99), drop('R1-0', 4)] }, 60 * S).dropCount).toEqual([
      drop('KEPT', 99),
      drop('R1-0', 0),
    ]);
  });

  it('property: every scraper scraping at least once per hold sees a born series at 0 before any other value', () => {
    const holdSeconds = 30;
    fc.assert(
      fc.property(
        // Gatherings: time step (s) and the value of one series (absent = undefined), after an empty baseline.
        fc.array(fc.record({ step: fc.integer({ min: 1, max: 20 }), value: fc.option(fc.nat(1000)) }), {
          minLength: 1,
          maxLength: 40,
        }),
        (gatherings) => {
          const births = createSeriesBirths({ holdSeconds });
          births.admit('s', {}, 0);
          let at = 0;
          const exported: { at: number; value: number | undefined }[] = [];
          for (const { step, value } of gatherings) {
            at += step * S;
            const samples: Samples = value === null ? {} : { dropCount: [drop('X', value)] };
            exported.push({ at, value: births.admit('s', samples, at).dropCount?.[0]?.value });
          }
          // p: the first export above 0. Prometheus must have a 0 of the series before it; and when the series
          // was first seen above 0, every export of its first present run younger than the hold was 0, unless the
          // kernel itself read 0 in that run (a counter reset: that 0 is real, the series is known from then on).
          const p = exported.findIndex((e) => (e.value ?? 0) > 0);
          if (p < 0) return;
          expect(exported.slice(0, p).some((e) => e.value === 0)).toBe(true);
          const first = exported.findIndex((e) => e.value !== undefined);
          const bornAbove0 = (gatherings[first]!.value ?? 0) > 0;
          const firstRunReachesP = exported.slice(first, p + 1).every((e) => e.value !== undefined);
          const readZeroBeforeP = gatherings.slice(first, p).some((g) => g.value === 0);
          if (bornAbove0 && firstRunReachesP && !readZeroBeforeP) {
            expect(exported[p]!.at - exported[first]!.at).toBeGreaterThanOrEqual(holdSeconds * S);
          }
        },
      ),
      // Found by a CI run (seed 275732590): born at 1, read 0 (a reset), read 1.
      {
        examples: [
          [
            [
              { step: 1, value: 1 },
              { step: 1, value: 0 },
              { step: 1, value: 1 },
            ],
          ],
        ],
      },
    );
  });
});

describe('the gatherer holds born counter series of every source', () => {
  it('holds a drop reason a source reports for the first time in a later gathering', async () => {
    const config = resolveConfig({ nodeName: 'n', newSeriesHold: '60' }, {});
    let reasons: { reason: string; value: number }[] = [{ reason: 'NO_SOCKET', value: 2 }];
    const source: Source = {
      name: 'fake_drops',
      description: 'drops',
      platforms: ['linux'],
      metrics: ['dropCount'],
      collect: () => ({ dropCount: reasons.map(({ reason, value }) => drop(reason, value)) }),
    };
    const gatherer = new Gatherer([source], { config, fs: createHostFs(config), log: silentLogger() });
    expect((await gatherer.gather()).samples.dropCount).toEqual([drop('NO_SOCKET', 2)]);
    reasons = [...reasons, { reason: 'OTHERHOST', value: 300 }];
    expect((await gatherer.gather()).samples.dropCount).toEqual([drop('NO_SOCKET', 2), drop('OTHERHOST', 0)]);
  });
});
