import { spawnSync } from 'node:child_process';
import { cleanup, connect, describeKernel, Namespace } from '../helpers/netns';

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
});
