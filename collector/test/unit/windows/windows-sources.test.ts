import { METRICS, NETWORK_METRIC_KEYS, type Platform } from '../../../src/catalog';
import { resolveConfig } from '../../../src/config';
import { SourceUnavailableError } from '../../../src/errors';
import { Gatherer } from '../../../src/gatherer';
import { createHostFs } from '../../../src/kernel/host-fs';
import { silentLogger } from '../../../src/log';
import { selectSources, createSources } from '../../../src/sources';
import { runTool } from '../../../src/sources/windows/command';

const WINDOWS_SOURCES = [
  'windows_tcp_state',
  'windows_tcp_statistics',
  'windows_ip_statistics',
  'windows_udp_statistics',
  'windows_udp_sockets',
  'windows_interfaces',
  'windows_hyperv_drops',
  'windows_vfp',
];

describe('Windows sources', () => {
  const config = resolveConfig({}, {});

  it('run on Windows only, and fill only metrics the catalog has on Windows', () => {
    expect(selectSources(config, 'windows').map((s) => s.name)).toEqual(WINDOWS_SOURCES);
    expect(selectSources(config, 'linux').map((s) => s.name)).not.toEqual(
      expect.arrayContaining(['windows_tcp_state']),
    );
    for (const source of createSources().filter((s) => WINDOWS_SOURCES.includes(s.name))) {
      expect(source.platforms).toEqual(['windows']);
      for (const key of source.metrics) expect(METRICS[key].platforms).toContain('windows');
    }
  });

  it('together fill every network metric the catalog lists for Windows: all but drop_bytes', () => {
    const filled = new Set(
      createSources()
        .filter((s) => s.platforms.includes('windows'))
        .flatMap((s) => s.metrics),
    );
    const onWindows = NETWORK_METRIC_KEYS.filter((key) =>
      (METRICS[key].platforms as readonly Platform[]).includes('windows'),
    );
    expect(NETWORK_METRIC_KEYS.filter((key) => !onWindows.includes(key))).toEqual(['dropBytes']);
    for (const key of onWindows) expect(filled).toContain(key);
  });

  it('never load koffi off Windows: the iphlpapi sources are down with the reason', async () => {
    type IpHelperModule = typeof import('../../../src/sources/windows/iphlpapi');
    let ipHelper: IpHelperModule | undefined;
    jest.isolateModules(() => {
      jest.doMock('koffi', () => {
        throw new Error('koffi was loaded on Linux');
      });
      // A fresh module registry where loading koffi throws: require is how Jest loads into it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      ipHelper = require('../../../src/sources/windows/iphlpapi') as IpHelperModule;
    });
    const helper = ipHelper!.createIpHelper();
    const { AF_INET } = ipHelper!;
    // Modules loaded in isolation have their own error classes: compare by name.
    const unavailable = { name: 'SourceUnavailableError', message: 'iphlpapi.dll exists only on Windows' };
    await expect(helper.readTcpTable(AF_INET)).rejects.toMatchObject(unavailable);
    await expect(helper.readTcpStatistics(AF_INET)).rejects.toMatchObject(unavailable);
    await expect(helper.readIfTable2()).rejects.toMatchObject(unavailable);
    await expect(helper.readUdpTable(AF_INET)).rejects.toMatchObject(unavailable);
    await expect(helper.readIpStatistics(AF_INET)).rejects.toMatchObject(unavailable);
    await expect(helper.readIcmpStatistics(AF_INET)).rejects.toMatchObject(unavailable);
    await expect(helper.readUdpStatistics(AF_INET)).rejects.toMatchObject(unavailable);
  });

  it('are reported down, not fatal, when their facility is missing', async () => {
    const iphlpapi = WINDOWS_SOURCES.filter((name) => !['windows_hyperv_drops', 'windows_vfp'].includes(name));
    const iphlpapiSources = createSources().filter((s) => iphlpapi.includes(s.name));
    const gatherer = new Gatherer(iphlpapiSources, { config, fs: createHostFs(config), log: silentLogger() });
    const gathering = await gatherer.gather();
    expect(gathering.sources.map((s) => [s.name, s.up, s.reason])).toEqual(
      iphlpapi.map((name) => [name, false, 'iphlpapi.dll exists only on Windows']),
    );
  });
});

describe('runTool', () => {
  it('passes arguments as an array, untouched by any shell', async () => {
    const tricky = 'a b; echo injected & $(x) "q"';
    expect(await runTool(process.execPath, ['-e', 'process.stdout.write(process.argv[1])', tricky])).toBe(tricky);
  });

  it('says a missing tool is not installed (the source goes down with that reason)', async () => {
    await expect(runTool('kappie-no-such-tool.exe', ['/format', '1'])).rejects.toThrow(
      new SourceUnavailableError('kappie-no-such-tool.exe is not installed or not on PATH'),
    );
  });

  it('reports a failing tool with the first line of what it printed', async () => {
    const failing = runTool(process.execPath, ['-e', 'console.error("Error: port not found\\nmore"); process.exit(3)']);
    await expect(failing).rejects.toBeInstanceOf(SourceUnavailableError);
    await expect(failing).rejects.toThrow(/failed: Error: port not found$/);
  });
});
