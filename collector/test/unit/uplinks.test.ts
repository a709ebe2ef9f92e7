import type { HostFs } from '../../src/kernel/host-fs';
import { withLowerDevices } from '../../src/sources/linux/uplinks';

/** A sysfs whose class/net/IF directories hold the given entries; others do not exist. */
function sysfs(directories: Record<string, string[]>): Pick<HostFs, 'listSys'> {
  return {
    listSys(relativePath) {
      const entries = directories[relativePath.replace(/^class\/net\//, '')];
      if (!entries) throw Object.assign(new Error(`ENOENT: ${relativePath}`), { code: 'ENOENT' });
      return entries;
    },
  };
}

describe('withLowerDevices', () => {
  it("follows lower_* links below each uplink, depth first, once each (Azure's VF under hv_netvsc, bond members)", () => {
    const fs = sysfs({
      eth0: ['address', 'lower_enP30832s1', 'statistics'],
      enP30832s1: ['address', 'upper_eth0'],
      'bond0.10': ['lower_bond0'],
      bond0: ['lower_ens5', 'lower_ens6', 'upper_bond0.10'],
      ens5: ['upper_bond0'],
      ens6: ['upper_bond0'],
    });
    expect(withLowerDevices(fs, ['eth0'])).toEqual(['eth0', 'enP30832s1']);
    expect(withLowerDevices(fs, ['bond0.10', 'ens5'])).toEqual(['bond0.10', 'bond0', 'ens5', 'ens6']);
  });

  it('keeps an interface whose sysfs directory is gone, with nothing below it', () => {
    expect(withLowerDevices(sysfs({}), ['gone0'])).toEqual(['gone0']);
  });

  it('stops on a loop of links instead of following it forever', () => {
    expect(withLowerDevices(sysfs({ a: ['lower_b'], b: ['lower_a'] }), ['a'])).toEqual(['a', 'b']);
  });
});
