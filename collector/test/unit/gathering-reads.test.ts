/**
 * Reads shared by the sources of one gathering: read once for all the sources that ask in a gathering, the same
 * error for each of them when the read failed, read afresh at the next gathering. The real netdev, forward and
 * tcp_flags share the link dump and /proc/net/dev this way; here sources that count their reads prove the rule.
 */
import pino from 'pino';
import { resolveConfig } from '../../src/config';
import { Gatherer } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import { createGatheringReads, readOnce, type Source } from '../../src/source';

describe('GatheringReads', () => {
  it('reads once per key until cleared, and gives every caller the same error', () => {
    const shared = createGatheringReads();
    let reads = 0;
    const read = () => ({ n: ++reads });
    const first = shared.once('a', read);
    expect(shared.once('a', read)).toBe(first);
    expect(shared.once('b', read)).toEqual({ n: 2 });
    shared.clear();
    expect(shared.once('a', read)).toEqual({ n: 3 });

    let failures = 0;
    const failing = () => {
      failures += 1;
      throw new Error('no such file');
    };
    expect(() => shared.once('c', failing)).toThrow('no such file');
    expect(() => shared.once('c', failing)).toThrow('no such file');
    expect(failures).toBe(1);
  });

  it('reads each time without a shared context', () => {
    let reads = 0;
    expect(readOnce({}, 'a', () => ++reads)).toBe(1);
    expect(readOnce({}, 'a', () => ++reads)).toBe(2);
  });
});

describe('Gatherer with shared reads', () => {
  it('lets the sources of one gathering share a read, and reads again at the next gathering', async () => {
    let reads = 0;
    const seen: number[] = [];
    const reader = (name: string): Source => ({
      name,
      description: 'reads the shared counter',
      platforms: ['linux'],
      metrics: ['udpActiveSockets'],
      collect: (ctx) => {
        seen.push(readOnce(ctx, 'counter', () => ++reads));
        return {};
      },
    });
    const config = resolveConfig({}, {});
    const gatherer = new Gatherer([reader('one'), reader('two'), reader('three')], {
      config,
      fs: createHostFs(config),
      log: pino({ level: 'silent' }),
    });
    await gatherer.gather();
    await gatherer.gather();
    expect(reads).toBe(2);
    expect(seen).toEqual([1, 1, 1, 2, 2, 2]);
  });
});
