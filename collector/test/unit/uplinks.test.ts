import * as path from 'node:path';
import { resolveConfig } from '../../src/config';
import { createHostFs, type HostFs } from '../../src/kernel/host-fs';
import { parseNetDev as parseNetDevBytes } from '../../src/kernel/net-dev';
import { createGatheringReads } from '../../src/source';
import { findUplinks, withLowerDevices } from '../../src/sources/linux/uplinks';
import { FIXTURES } from '../helpers/fixtures';

/** The parser given a test's text as its UTF-8 bytes (the file holds bytes). */
const parseNetDev = (text: string, file?: string) => parseNetDevBytes(Buffer.from(text, 'utf8'), file);

/** A sysfs whose class/net/IF directories hold the given entries; others do not exist. */
function sysfs(directories: Record<string, string[]>): Pick<HostFs, 'listSys'> {
  return {
    listSys(relativePath) {
      const entries = directories[relativePath.toString().replace(/^class\/net\//, '')];
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

describe('findUplinks in one gathering', () => {
  it('reads the routing tables once for every source that follows the uplinks, and again at the next gathering', () => {
    const config = resolveConfig({ procPath: path.join(FIXTURES, 'linux', 'golden', 'proc') }, {});
    const hostFs = createHostFs(config);
    const reads: string[] = [];
    const fs: HostFs = {
      ...hostFs,
      readProc: (file) => (reads.push(file), hostFs.readProc(file)),
      readProcIfExists: (file) => (reads.push(file), hostFs.readProcIfExists(file)),
      readProcBytes: (file) => (reads.push(file), hostFs.readProcBytes(file)),
      readProcBytesIfExists: (file) => (reads.push(file), hostFs.readProcBytesIfExists(file)),
    };
    const shared = createGatheringReads();
    const ctx = { config, fs, shared };
    const names = parseNetDev(hostFs.readProc('net/dev')).map(({ name }) => name);
    // forward, ethtool, netdev and tcp_flags each ask, with the names they have.
    const found = [findUplinks(ctx, names), findUplinks(ctx, names), findUplinks(ctx, names.slice(0, 1))];
    expect(found[0]!.uplinks.length).toBeGreaterThan(0);
    expect(found[1]).toEqual(found[0]);
    expect(reads.sort()).toEqual(['net/ipv6_route', 'net/route']);
    shared.clear();
    findUplinks(ctx, names);
    expect(reads).toHaveLength(4);
  });
});
