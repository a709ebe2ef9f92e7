import { METRICS } from '../../src/catalog';
import { cleanup, describeKernel, Namespace } from '../helpers/netns';
import { holdUdpSockets } from '../helpers/socket-holder';

describeKernel('sockstat source in a network namespace', () => {
  let ns: Namespace;
  beforeAll(() => {
    ns = Namespace.create();
  });
  afterAll(cleanup);

  function udpActive(): number {
    const gathering = ns.snapshot('--sources', 'sockstat');
    const samples = gathering.samples[`udpActiveSockets`] ?? [];
    expect(samples).toHaveLength(1);
    return samples[0]!.value;
  }

  it(`counts opened UDP sockets, IPv4 and IPv6, exactly in ${METRICS.udpActiveSockets.name}`, async () => {
    expect(udpActive()).toBe(0);
    const v4 = await holdUdpSockets(ns, 7, '4');
    const v6 = await holdUdpSockets(ns, 5, '6');
    expect(udpActive()).toBe(12);
    // `ss` read at the same moment agrees.
    const ssCount = ns
      .exec('ss', '-uaH')
      .trim()
      .split('\n')
      .filter((line) => line.trim() !== '').length;
    expect(ssCount).toBe(12);
    v4.kill('SIGKILL');
    v6.kill('SIGKILL');
  });
});
