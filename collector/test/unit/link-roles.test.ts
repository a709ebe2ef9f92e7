import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseLinkDump } from '../../src/kernel/rtnetlink-link';
import {
  bridgePorts,
  kernelPodInterfaces,
  podInterfaceTest,
  resolveUplinks,
  type LinkFacts,
} from '../../src/sources/linux/link-roles';
import { FIXTURES } from '../helpers/fixtures';

/** Links as the kernel describes them: index, name, kind, master and the peer namespace of a veth. */
function links(...rows: [number, string, string?, number?, number?][]): LinkFacts[] {
  return rows.map(([index, name, kind, masterIndex, linkNetnsId]) => ({ index, name, kind, masterIndex, linkNetnsId }));
}

const LO: [number, string] = [1, 'lo'];

describe('resolveUplinks: the devices every crossing packet passes once', () => {
  it('takes a routed holder as it is (kubenet, Azure CNI transparent, Cilium)', () => {
    const node = links(LO, [2, 'eth0'], [3, 'cbr0', 'bridge'], [4, 'veth1', 'veth', 3, 0]);
    expect(resolveUplinks(['eth0'], node)).toEqual(['eth0']);
  });

  it('replaces a bridge holding the default route by its non-veth port (Azure CNI bridge on a real NIC)', () => {
    const node = links(LO, [2, 'eth0', undefined, 3], [3, 'azure0', 'bridge'], [4, 'azv1', 'veth', 3, 0]);
    expect(resolveUplinks(['azure0'], node)).toEqual(['eth0']);
    expect(bridgePorts(['eth0'], node)).toEqual(['eth0']);
  });

  it('on a node of veths only, takes the bridge port not named like a pod (a test host, a nested container)', () => {
    const node = links(LO, [2, 'eth0', 'veth', 3, 1], [3, 'azure0', 'bridge'], [4, 'azv1', 'veth', 3, 0]);
    expect(resolveUplinks(['azure0'], node)).toEqual(['eth0']);
  });

  it('keeps a bridge with no uplink port, and a holder the dump does not list', () => {
    const node = links(LO, [3, 'br0', 'bridge'], [4, 'veth1', 'veth', 3, 0]);
    expect(resolveUplinks(['br0', 'gone0'], node)).toEqual(['br0', 'gone0']);
    expect(bridgePorts(['br0'], node)).toEqual([]);
  });

  it("never picks a slave: Azure's VF under hv_netvsc eth0, a bond member, a bond under a bridge", () => {
    const accelerated = links(LO, [2, 'eth0'], [3, 'enP30832s1', undefined, 2]);
    expect(resolveUplinks(['eth0'], accelerated)).toEqual(['eth0']);
    const bonded = links(LO, [2, 'ens5', undefined, 4], [3, 'ens6', undefined, 4], [4, 'bond0', 'bond', 5]);
    const bridged = [...bonded, ...links([5, 'br0', 'bridge'], [6, 'veth1', 'veth', 5, 0])];
    expect(resolveUplinks(['br0'], bridged)).toEqual(['bond0']);
    expect(resolveUplinks(['ens5'], bonded)).toEqual(['bond0']);
  });
});

describe('kernelPodInterfaces: the host side of veths whose peer is in another namespace', () => {
  it('a host veth pair, bridges, cilium_host/cilium_net and the uplink are node interfaces', () => {
    const node = links(
      LO,
      [2, 'eth0', 'veth', undefined, 1],
      [3, 'cbr0', 'bridge'],
      [4, 'veth0a1b', 'veth', 3, 0],
      [5, 'veth-mgmt', 'veth'],
      [6, 'mgmt-peer', 'veth'],
      [7, 'cilium_host', 'veth'],
      [8, 'cilium_net', 'veth'],
      [9, 'lxc12ab', 'veth', undefined, 2],
      [10, 'podnet7', 'veth', undefined, 3],
    );
    expect([...kernelPodInterfaces(node, ['eth0'], ['eth0'])].sort()).toEqual(['lxc12ab', 'podnet7', 'veth0a1b']);
  });

  it('a slave of the uplink is not a pod even when it is a veth to another namespace (the test VF)', () => {
    const node = links(LO, [2, 'eth0', 'bridge'], [3, 'enP30832s1', 'veth', 2, 1], [4, 'azv1', 'veth', undefined, 0]);
    const uplinks = resolveUplinks(['eth0'], node);
    expect(uplinks).toEqual(['enP30832s1']);
    expect([...kernelPodInterfaces(node, uplinks, ['eth0'])]).toEqual(['azv1']);
  });
});

describe('podInterfaceTest', () => {
  const node = links(LO, [2, 'eth0'], [5, 'veth-mgmt', 'veth'], [9, 'azv1', 'veth', undefined, 0]);

  it('--pod-interfaces replaces the kernel rule both ways', () => {
    const { isPod, rule } = podInterfaceTest(['veth*'], node, ['eth0'], ['eth0']);
    expect(rule).toBe('names');
    expect([isPod('veth-mgmt'), isPod('azv1')]).toEqual([true, false]);
  });

  it('without it the kernel decides, and without a dump the CNIs’ default names', () => {
    const kernel = podInterfaceTest([], node, ['eth0'], ['eth0']);
    expect([kernel.rule, kernel.isPod('veth-mgmt'), kernel.isPod('azv1')]).toEqual(['kernel', false, true]);
    const names = podInterfaceTest([], undefined, [], []);
    expect([names.rule, names.isPod('veth-mgmt'), names.isPod('azv1'), names.isPod('eth0')]).toEqual([
      'default-names',
      true,
      true,
      false,
    ]);
  });

  it('on the recorded dump: the veth whose peer was moved is a pod, the pair with both ends here is not', () => {
    const dump = parseLinkDump(fs.readFileSync(path.join(FIXTURES, 'linux', 'rtnetlink', 'links.dump')), true);
    const pods = kernelPodInterfaces(dump.links, ['eth0'], ['eth0']);
    expect([...pods]).toEqual(['vpod0']);
  });
});
