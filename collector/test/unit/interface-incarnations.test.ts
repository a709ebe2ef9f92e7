import type { RtnetlinkLink, LinkDump } from '../../src/kernel/rtnetlink-link';
import { createInterfaceIncarnations, type IncarnationContext } from '../../src/sources/linux/interface-incarnations';

/** A link of a dump: only the name and index matter here. */
const link = (name: string, index: number) => ({ name, index }) as RtnetlinkLink;

function context(live: boolean, sysfs: Record<string, string>) {
  const sysReads: string[] = [];
  const warnings: unknown[] = [];
  const ctx: IncarnationContext = {
    fs: {
      sysPath: '/sys',
      procPath: '/proc',
      procIsLive: () => live,
      readSys: (path) => {
        const file = path.toString();
        sysReads.push(file);
        const text = sysfs[file];
        if (text === undefined) throw Object.assign(new Error(`ENOENT ${file}`), { code: 'ENOENT' });
        return text;
      },
      listSys: () => ['eth0', 'veth1'],
    },
    log: { warn: (...args: unknown[]) => void warnings.push(args) },
  };
  return { ctx, sysReads, warnings };
}

const SYSFS = { 'class/net/eth0/ifindex': '2\n', 'class/net/veth1/ifindex': '9\n' };

describe('interface incarnations: one rtnetlink link dump on a live procfs, sysfs otherwise', () => {
  it('takes every ifindex from one link dump on the live procfs, reading no sysfs file', () => {
    let dumps = 0;
    const dump = (): LinkDump => {
      dumps++;
      return { links: [link('lo', 1), link('eth0', 2), link('veth1', 7)], interrupted: false };
    };
    const { ctx, sysReads } = context(true, SYSFS);
    const incarnations = createInterfaceIncarnations(dump)(ctx, ['eth0', 'veth1', 'gone0'], 3);
    expect(incarnations).toEqual(
      new Map([
        ['eth0', 2],
        ['veth1', 7],
      ]),
    );
    expect(dumps).toBe(1);
    expect(sysReads).toEqual([]);
  });

  it('reads sysfs for a recorded tree, and after a failed dump (logged once, not retried)', () => {
    const recorded = context(false, SYSFS);
    const neverDumped = () => {
      throw new Error('a recorded tree must not be dumped');
    };
    expect(createInterfaceIncarnations(neverDumped)(recorded.ctx, ['veth1'], 1)).toEqual(new Map([['veth1', 9]]));
    // Few names of many interfaces (forward's uplinks): a file each is cheaper than a dump of every link.
    const few = context(true, SYSFS);
    expect(createInterfaceIncarnations(neverDumped)(few.ctx, ['eth0'], 250)).toEqual(new Map([['eth0', 2]]));
    expect(recorded.sysReads).toEqual(['class/net/veth1/ifindex']);

    let attempts = 0;
    const failing = () => {
      attempts++;
      throw new Error('EPERM');
    };
    const live = context(true, SYSFS);
    const incarnations = createInterfaceIncarnations(failing);
    expect(incarnations(live.ctx, ['eth0'], 2)).toEqual(new Map([['eth0', 2]]));
    expect(incarnations(live.ctx, ['eth0'], 2)).toEqual(new Map([['eth0', 2]]));
    expect([attempts, live.warnings.length]).toEqual([1, 1]);
  });
});
