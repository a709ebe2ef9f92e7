/**
 * `--proc-path /proc/<pid>` points the collector at another process's network namespace: the netlink readers
 * (sock_diag for TCP sockets, the rtnetlink link dump for ifindexes) must read that namespace too, not the
 * collector's own, so every family of one gathering comes from one namespace.
 */
import * as os from 'node:os';
import { resolveConfig } from '../../src/config';
import { createHostFs } from '../../src/kernel/host-fs';
import { parseSnapshotJson } from '../../src/snapshot-json';
import { createInterfaceIncarnations } from '../../src/sources/linux/interface-incarnations';
import { cleanup, COLLECTOR_CLI, describeKernel, Namespace, run, uniqueName } from '../helpers/netns';
import { holdTcpSockets } from '../helpers/tcp-holder';

/** `kappie snapshot --json` of `sources` with `--proc-path procPath` and `flags`, run in the test's own namespace. */
function snapshotThrough(procPath: string, sources: string, ...flags: string[]) {
  return parseSnapshotJson(
    run(process.execPath, [
      COLLECTOR_CLI,
      'snapshot',
      '--json',
      '--sources',
      sources,
      ...flags,
      '--proc-path',
      procPath,
    ]),
  );
}

describeKernel('netlink readers in the namespace of --proc-path', () => {
  let ns: Namespace;
  let pid: number;
  beforeAll(async () => {
    ns = Namespace.create();
    const holder = await holdTcpSockets(ns, {
      listen: [
        ['127.0.0.1', 7101],
        ['127.0.0.1', 7102],
        ['::1', 7103],
      ],
    });
    pid = holder.pid!;
  });
  afterAll(cleanup);

  it("refuses tcp_flags for another namespace's proc root (its table would count the collector's namespace)", () => {
    const snapshot = (procPath: string) =>
      snapshotThrough(procPath, 'tcp_flags').sources.find((source) => source.name === 'tcp_flags');
    const other = snapshot(`/proc/${pid}`);
    expect(other?.up).toBe(false);
    expect(other?.reason).toMatch(/^--proc-path \/proc\/\d+ shows another network namespace than the collector's; /);
    // The collector's own namespace through a process's proc root is not refused (it fails later, for want of a
    // serving collector's table, or counts).
    expect(snapshot(`/proc/${process.pid}`)?.reason ?? '').not.toMatch(/another network namespace/);
  });

  it('counts drops with tracefs events: tracefs found in the collector’s own mounts, kallsyms in the procfs', () => {
    // <proc-path>/self/mountinfo and <proc-path>/kallsyms do not exist under /proc/<pid>: the source fell back to the
    // kernel counters ("missing: /proc/<pid>/self/mountinfo"), then read text events ("missing: /proc/<pid>/kallsyms").
    const gathering = snapshotThrough(`/proc/${pid}`, 'drops', '--tracefs-instance', uniqueName('kpp'));
    const status = gathering.sources.find((source) => source.source === 'drops');
    expect([status?.name, status?.up]).toEqual(['drop_reasons', true]);
    expect(status?.reason ?? '').not.toMatch(/missing/);
    expect(status?.reason).toMatch(/events read from trace_pipe_raw \(binary\)/);
  });

  it('counts the target namespace’s 3 listeners through netlink sock_diag, as /proc/<pid>/net/tcp does', () => {
    for (const reader of ['netlink', 'auto', 'procfs']) {
      const gathering = snapshotThrough(`/proc/${pid}`, 'tcp_sockets', '--tcp-socket-reader', reader);
      const listen = gathering.samples.tcpState?.find((sample) => sample.labels.state === 'LISTEN')?.value;
      const status = gathering.sources.find((source) => source.name === 'tcp_sockets');
      expect([reader, listen, status?.up, status?.reason]).toEqual([reader, 3, true, undefined]);
    }
  });

  it('takes ifindexes from the target namespace’s rtnetlink link dump', () => {
    // Links that exist only in the target namespace, with ifindexes the root namespace does not give them.
    const names = [uniqueName('kd'), uniqueName('kd')];
    ns.ip('link', 'add', names[0]!, 'type', 'veth', 'peer', 'name', names[1]!);
    const expected = new Map(
      (JSON.parse(ns.ip('-j', 'link', 'show')) as { ifname: string; ifindex: number }[]).map((link) => [
        link.ifname,
        link.ifindex,
      ]),
    );
    const config = resolveConfig({ procPath: `/proc/${pid}` }, {});
    const warnings: string[] = [];
    const incarnations = createInterfaceIncarnations()(
      { fs: createHostFs(config), log: { warn: (_: unknown, message: string) => warnings.push(message) } as never },
      [...expected.keys()],
      expected.size,
    );
    expect(warnings).toEqual([]);
    expect(incarnations).toEqual(expected);
    // The collector's own namespace is untouched: the dummies are not in it.
    expect(run('ip', ['-j', 'link', 'show'])).not.toContain(names[0]);
    expect(os.networkInterfaces()[names[0]!]).toBeUndefined();
  });
});
