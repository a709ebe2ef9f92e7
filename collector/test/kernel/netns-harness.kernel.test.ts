import { spawnSync } from 'node:child_process';
import { cleanup, COLLECTOR_CLI, connect, describeKernel, Namespace, waitForOutput } from '../helpers/netns';
import { tracefsInstances } from '../helpers/tracefs-instances';

describeKernel('test host harness', () => {
  afterAll(cleanup);

  it('joins two namespaces with a veth pair that carries IPv4 and IPv6, and removes them', () => {
    const a = Namespace.create();
    const b = Namespace.create();
    const link = connect(a, b);
    expect(a.exec('ping', '-c', '1', '-W', '2', link.bAddr4)).toContain('1 received');
    expect(a.exec('ping', '-6', '-c', '1', '-W', '2', link.bAddr6)).toContain('1 received');
    expect(a.ip('route', 'show', 'default')).toContain(`dev ${link.aIf}`);
    cleanup();
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
    expect(left).not.toContain(a.name);
    expect(left).not.toContain(b.name);
  });

  it("gives a collector run without --tracefs-instance the namespace's own instance, removed when it was killed", async () => {
    const ns = Namespace.create();
    const observer = Namespace.create();
    // tracefs instances are global: the default `kappie` would replace a live collector's, here or in a test beside.
    const child = ns.spawn(process.execPath, [COLLECTOR_CLI, 'serve', '--listen', '127.0.0.1:0', '--sources', 'drops']);
    const ready = new RegExp(`instances/${ns.tracefsInstance}\\b[\\s\\S]*ready: the sources are started`);
    await waitForOutput(child, ready);
    expect(tracefsInstances(observer)).toContain(ns.tracefsInstance);
    // Killed, the collector cannot remove its instance; deleting the namespace does.
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(tracefsInstances(observer)).toContain(ns.tracefsInstance);
    ns.delete();
    expect(tracefsInstances(observer)).not.toContain(ns.tracefsInstance);
  });
});
