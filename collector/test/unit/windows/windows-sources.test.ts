import { METRICS } from '../../../src/catalog';
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

  it('together fill every metric the catalog lists for Windows data', () => {
    const filled = new Set(
      createSources()
        .filter((s) => s.platforms.includes('windows'))
        .flatMap((s) => s.metrics),
    );
    for (const key of [
      'forwardCount',
      'forwardBytes',
      'dropCount',
      'tcpState',
      'tcpConnectionStats',
      'tcpFlagCounters',
      'interfaceStats',
    ] as const) {
      expect(filled).toContain(key);
    }
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
    const { readTcpTable, readIfTable2, readTcpStatistics } = ipHelper!.createIpHelper();
    const { AF_INET } = ipHelper!;
    // Modules loaded in isolation have their own error classes: compare by name.
    const unavailable = { name: 'SourceUnavailableError', message: 'iphlpapi.dll exists only on Windows' };
    await expect(readTcpTable(AF_INET)).rejects.toMatchObject(unavailable);
    await expect(readTcpStatistics(AF_INET)).rejects.toMatchObject(unavailable);
    await expect(readIfTable2()).rejects.toMatchObject(unavailable);
  });

  it('are reported down, not fatal, when their facility is missing', async () => {
    const iphlpapiSources = createSources().filter((s) => ['windows_tcp_state', 'windows_interfaces'].includes(s.name));
    const gatherer = new Gatherer(iphlpapiSources, { config, fs: createHostFs(config), log: silentLogger() });
    const gathering = await gatherer.gather();
    expect(gathering.sources.map((s) => [s.name, s.up, s.reason])).toEqual([
      ['windows_tcp_state', false, 'iphlpapi.dll exists only on Windows'],
      ['windows_interfaces', false, 'iphlpapi.dll exists only on Windows'],
    ]);
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
