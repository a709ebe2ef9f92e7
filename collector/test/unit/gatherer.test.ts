import pino from 'pino';
import { Writable } from 'node:stream';
import { metricName, METRICS } from '../../src/catalog';
import { resolveConfig } from '../../src/config';
import { Exposition } from '../../src/exposition';
import { Gatherer } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import type { Samples, Source } from '../../src/source';

/** A logger whose JSON lines land in `lines`. */
function capturingLogger(lines: Record<string, unknown>[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

function gathererOf(source: Source, lines: Record<string, unknown>[]): Gatherer {
  const config = resolveConfig({}, {});
  return new Gatherer([source], { config, fs: createHostFs(config), log: capturingLogger(lines) });
}

describe('Gatherer', () => {
  it('prefetches for every started source before any collect, collects those sources last, keeps the order', async () => {
    const lines: Record<string, unknown>[] = [];
    const events: string[] = [];
    const plain = (name: string): Source => ({
      name,
      description: name,
      platforms: ['linux'],
      metrics: [],
      collect: () => (events.push(`collect ${name}`), {}),
    });
    const prefetching = (name: string, prefetch: () => void): Source => ({
      ...plain(name),
      prefetch: () => (events.push(`prefetch ${name}`), prefetch()),
    });
    const config = resolveConfig({}, {});
    const gatherer = new Gatherer(
      [
        plain('first'),
        prefetching('early', () => undefined),
        plain('middle'),
        prefetching('throws', () => {
          throw new Error('a bug');
        }),
      ],
      { config, fs: createHostFs(config), log: capturingLogger(lines) },
    );
    const first = await gatherer.gather();
    // The first gathering starts the sources: nothing to prefetch for yet.
    expect(events).toEqual(['collect first', 'collect middle', 'collect early', 'collect throws']);
    events.length = 0;
    const second = await gatherer.gather();
    expect(events).toEqual([
      'prefetch early',
      'prefetch throws',
      'collect first',
      'collect middle',
      'collect early',
      'collect throws',
    ]);
    for (const gathering of [first, second]) {
      expect(gathering.sources.map((status) => [status.name, status.up])).toEqual([
        ['first', true],
        ['early', true],
        ['middle', true],
        ['throws', true],
      ]);
    }
    const bug = lines.filter((line) => String(line['msg']).includes('prefetch threw'));
    expect(bug).toHaveLength(1);
    expect(bug[0]).toMatchObject({ source: 'throws', err: 'a bug' });
  });

  it('drops samples of a metric the source does not declare, logging why once', async () => {
    const lines: Record<string, unknown>[] = [];
    const source: Source = {
      name: 'liar',
      description: 'declares udp_active_sockets, also produces tcp_state',
      platforms: ['linux'],
      metrics: ['udpActiveSockets'],
      collect: (): Samples => ({
        udpActiveSockets: [{ labels: {}, value: 3 }],
        tcpState: [{ labels: { state: 'LISTEN' }, value: 1 }],
      }),
    };
    const gatherer = gathererOf(source, lines);
    const first = await gatherer.gather();
    await gatherer.gather();
    expect(first.samples.udpActiveSockets).toEqual([{ labels: {}, value: 3 }]);
    expect(first.samples.tcpState).toBeUndefined();
    const errors = lines.filter((line) => String(line['msg']).includes('does not declare'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ source: 'liar' });
  });

  it('drops samples whose labels are not the catalog labels of their metric', async () => {
    const lines: Record<string, unknown>[] = [];
    // A cast, as plain JavaScript or a label built from a variable could do: the types alone would refuse it.
    const wrong = [{ labels: { state: 'LISTEN', port: '80' }, value: 1 }] as unknown as NonNullable<
      Samples['tcpState']
    >;
    const source: Source = {
      name: 'sloppy',
      description: 'one good and one mislabelled tcp_state sample',
      platforms: ['linux'],
      metrics: ['tcpState'],
      collect: (): Samples => ({ tcpState: [{ labels: { state: 'ESTABLISHED' }, value: 2 }, ...wrong] }),
    };
    const gathering = await gathererOf(source, lines).gather();
    expect(gathering.samples.tcpState).toEqual([{ labels: { state: 'ESTABLISHED' }, value: 2 }]);
    expect(lines.some((line) => String(line['msg']).includes('are not the catalog'))).toBe(true);
  });

  it("gives each source a logger carrying the source's name", async () => {
    const lines: Record<string, unknown>[] = [];
    const source: Source = {
      name: 'chatty',
      description: 'logs once per gathering',
      platforms: ['linux'],
      metrics: [],
      collect(ctx) {
        ctx.log.info('hello');
        return {};
      },
    };
    await gathererOf(source, lines).gather();
    expect(lines.find((line) => line['msg'] === 'hello')).toMatchObject({ source: 'chatty' });
  });

  it('exports kappie_source_lost_events_total only for sources that can lose events, 0 included', async () => {
    const config = resolveConfig({ nodeName: 'n' }, {});
    const plain: Source = {
      name: 'plain',
      description: 'reads a file: nothing to lose',
      platforms: ['linux'],
      metrics: ['udpActiveSockets'],
      collect: (): Samples => ({ udpActiveSockets: [{ labels: {}, value: 1 }] }),
    };
    const streaming: Source = { ...plain, name: 'streaming', description: 'streams events', lostEvents: () => 0 };
    const switching: Source = {
      ...plain,
      name: 'switching',
      description: 'streams now and then',
      lostEvents: () => undefined,
    };
    const gatherer = new Gatherer([plain, streaming, switching], {
      config,
      fs: createHostFs(config),
      log: capturingLogger([]),
    });
    const { text } = await new Exposition(gatherer, config, {
      version: 't',
      os: 'linux',
      arch: 'x64',
      kernel: 't',
    }).scrape();
    const lost = text.split('\n').filter((line) => line.startsWith(`${metricName(METRICS.sourceLostEvents)}{`));
    expect(lost).toEqual([`${metricName(METRICS.sourceLostEvents)}{source="streaming",node_name="n"} 0`]);
  });
  it('writes every scrape whole as its series grow and shrink (the pieces array is made at the last size)', async () => {
    const config = { ...resolveConfig({ nodeName: 'n' }, {}), scrapeReuseSeconds: 0, newSeriesHoldSeconds: 0 };
    const counts = [3, 1, 0, 5, 2];
    let gathering = 0;
    const source: Source = {
      name: 'varying',
      description: 'a different number of interfaces at each gathering',
      platforms: ['linux'],
      metrics: ['interfaceStats', 'udpActiveSockets'],
      collect: (): Samples => ({
        interfaceStats: Array.from({ length: counts[gathering++]! }, (_, i) => ({
          labels: { interface_name: `eth${i}`, statistic_name: 'rx_bytes' },
          value: i,
        })),
        udpActiveSockets: [{ labels: {}, value: 7 }],
      }),
    };
    const gatherer = new Gatherer([source], { config, fs: createHostFs(config), log: capturingLogger([]) });
    const exposition = new Exposition(gatherer, config, { version: 't', os: 'linux', arch: 'x64', kernel: 't' });
    const name = metricName(METRICS.interfaceStats);
    for (const count of counts) {
      const { text } = await exposition.scrape();
      const lines = text.split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.filter((line) => line.startsWith(`${name}{`))).toEqual(
        Array.from(
          { length: count },
          (_, i) => `${name}{interface_name="eth${i}",statistic_name="rx_bytes",node_name="n"} ${i}`,
        ),
      );
      expect(lines.filter((line) => line.startsWith(`${metricName(METRICS.udpActiveSockets)}{`))).toHaveLength(1);
      expect(lines.every((line) => line.startsWith('#') || / \d+(\.\d+)?(e-\d+)?$/.test(line))).toBe(true);
    }
  });
});
