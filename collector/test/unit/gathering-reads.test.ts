/**
 * Reads shared by the sources of one gathering: read once for all the sources that ask in a gathering, the same
 * error for each of them when the read failed, read afresh at the next gathering. The real netdev, forward and
 * tcp_flags share the link dump and /proc/net/dev this way; here sources that count their reads prove the rule.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { resolveConfig } from '../../src/config';
import { Gatherer } from '../../src/gatherer';
import { createHostFs, type HostFs } from '../../src/kernel/host-fs';
import { createGatheringReads, keptAcrossGatherings, readOnce, type Source } from '../../src/source';
import { createSockstatSource } from '../../src/sources/linux/sockstat';
import { createTcpSocketsSource } from '../../src/sources/linux/tcp-sockets';
import { fixture } from '../helpers/fixtures';

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

  it('keeps a kept value across clear(), made once', () => {
    const shared = createGatheringReads();
    let made = 0;
    const make = () => ({ n: ++made });
    const first = shared.kept('headers', make);
    shared.clear();
    expect(shared.kept('headers', make)).toBe(first);
    expect(made).toBe(1);
    expect(keptAcrossGatherings({}, 'headers', make)).toEqual({ n: 2 });
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

describe('sockstat shared by the sockstat and tcp_sockets sources', () => {
  it('reads /proc/net/sockstat{,6} once per gathering for both', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-sockstat-'));
    try {
      fs.mkdirSync(path.join(root, 'net'));
      fs.writeFileSync(
        path.join(root, 'net', 'sockstat'),
        'TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 1\nUDP: inuse 2 mem 0\n',
      );
      fs.writeFileSync(path.join(root, 'net', 'sockstat6'), 'TCP6: inuse 0\nUDP6: inuse 1\n');
      fs.writeFileSync(path.join(root, 'net', 'tcp'), fixture('linux/tcp-netns-a.tcp'), 'latin1');
      fs.writeFileSync(path.join(root, 'net', 'tcp6'), fixture('linux/tcp-netns-a.tcp6'), 'latin1');
      const config = resolveConfig({ procPath: root }, {});
      const hostFs = createHostFs(config);
      const reads = new Map<string, number>();
      const counting: HostFs = {
        ...hostFs,
        readProc: (file) => (reads.set(file, (reads.get(file) ?? 0) + 1), hostFs.readProc(file)),
        readProcIfExists: (file) => (reads.set(file, (reads.get(file) ?? 0) + 1), hostFs.readProcIfExists(file)),
      };
      const gatherer = new Gatherer([createSockstatSource(), createTcpSocketsSource()], {
        config,
        fs: counting,
        log: pino({ level: 'silent' }),
      });
      for (let gathering = 0; gathering < 2; gathering++) {
        const { sources } = await gatherer.gather();
        expect(sources.map((status) => [status.name, status.up])).toEqual([
          ['sockstat', true],
          ['tcp_sockets', true],
        ]);
      }
      expect([reads.get('net/sockstat'), reads.get('net/sockstat6')]).toEqual([2, 2]);
      await gatherer.stop();
      hostFs.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
