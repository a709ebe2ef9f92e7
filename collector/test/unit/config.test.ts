import * as os from 'node:os';
import { globMatcher, parseListen, resolveConfig, resolveConfigWithOrigins } from '../../src/config';
import { checkPathOptions } from '../../src/config-paths';
import { ConfigError } from '../../src/errors';

describe('resolveConfig', () => {
  it('needs no configuration', () => {
    const config = resolveConfig({}, {});
    expect(config.listen).toEqual({ host: '', port: 10093 });
    expect(config.nodeName).toBe(os.hostname());
    expect(config.cluster).toBeUndefined();
    expect(config.metricPrefix).toBe('kappie_');
    expect(config.procPath).toBe('/proc');
    expect(config.tcpRemoteTopK).toBe(20);
    // Unset: Linux tells pod interfaces by the kernel (link-roles.ts), Windows by its vNIC names.
    expect(config.podInterfaces).toEqual([]);
  });

  it('takes environment variables, and flags win over them', () => {
    const env = { KAPPIE_LISTEN: '127.0.0.1:9000', KAPPIE_CLUSTER: 'prod', NODE_NAME: 'aks-node-1' };
    expect(resolveConfig({}, env)).toMatchObject({
      listen: { host: '127.0.0.1', port: 9000 },
      cluster: 'prod',
      nodeName: 'aks-node-1',
    });
    expect(resolveConfig({ listen: ':9100', nodeName: 'flag-node' }, env)).toMatchObject({
      listen: { host: '', port: 9100 },
      nodeName: 'flag-node',
    });
    expect(resolveConfig({}, { ...env, KAPPIE_NODE_NAME: 'explicit' }).nodeName).toBe('explicit');
  });

  it('names the option and what it accepts for bad values', () => {
    expect(() => resolveConfig({ listen: '10093' }, {})).toThrow(ConfigError);
    expect(() => resolveConfig({ listen: '10093' }, {})).toThrow(/--listen: "10093" is not HOST:PORT/);
    expect(() => resolveConfig({}, { KAPPIE_LISTEN: ':99999' })).toThrow(
      /KAPPIE_LISTEN: ":99999": port 99999 is out of range \(a TCP port is 1-65535, or 0 to pick a free one\)/,
    );
    expect(resolveConfig({ listen: '[::1]:65535' }, {}).listen).toEqual({ host: '::1', port: 65535 });
    expect(() => resolveConfig({}, { KAPPIE_TCP_REMOTE_TOP_K: '-1' })).toThrow(
      /KAPPIE_TCP_REMOTE_TOP_K: "-1" is not a whole number from 0 to 1000/,
    );
    expect(() => resolveConfig({ metricPrefix: '1bad' }, {})).toThrow(/--metric-prefix/);
    expect(() => resolveConfig({ logLevel: 'loud' }, {})).toThrow(/not one of: debug, info, warn, error/);
    expect(() => resolveConfig({ interfaceExclude: 'eth0,bad/name' }, {})).toThrow(/not an interface name pattern/);
    expect(() => resolveConfig({ interfaceExclude: 'eth0,tab\there' }, {})).toThrow(/not an interface name pattern/);
    // Any legal Linux name is selectable, non-ASCII too; `?` is one character, not one UTF-16 unit or byte.
    const nonAscii = resolveConfig({ interfaceInclude: 'nét?,🙂*' }, {}).interfaceInclude;
    expect(nonAscii).toEqual(['nét?', '🙂*']);
    const matches = globMatcher(nonAscii);
    expect(['nét0', '🙂x', 'net0', 'nét00'].map(matches)).toEqual([true, true, false, false]);
    expect(globMatcher(['?'])('🙂')).toBe(true);
    // Windows adapter names have spaces and parentheses.
    expect(resolveConfig({ interfaceExclude: 'vEthernet (Ethernet 2)' }, {}).interfaceExclude).toEqual([
      'vEthernet (Ethernet 2)',
    ]);
    expect(() => resolveConfig({ perPodInterfaceStats: 'maybe' }, {})).toThrow(/not a boolean/);
    expect(() => resolveConfig({ nftTable: 'bad table' }, {})).toThrow(/--nft-table: "bad table" is not a table name/);
    expect(resolveConfig({}, { KAPPIE_NFT_TABLE: 'kappie_test' }).nftTable).toBe('kappie_test');
  });

  it('says where each value came from: the flag, the variable, or the default', () => {
    const { origins } = resolveConfigWithOrigins({ statistics: 'all' }, { KAPPIE_SOURCES: 'sockstat' });
    expect(origins.statistics).toBe('--statistics');
    expect(origins.sources).toBe('KAPPIE_SOURCES');
    expect(origins.listen).toBe('--listen');
  });

  it('gives a command only its own options: snapshot ignores serve-only variables it inherits', () => {
    const env = { KAPPIE_LISTEN: 'not an address', KAPPIE_STATISTICS: 'all', KAPPIE_SCRAPE_REUSE_WINDOW: 'x' };
    expect(() => resolveConfig({}, env, 'serve')).toThrow(/KAPPIE_LISTEN/);
    const snapshot = resolveConfig({}, env, 'snapshot');
    expect(snapshot.statistics).toBe('all');
    expect(snapshot.listen).toEqual({ host: '', port: 10093 });
    expect(resolveConfig({}, { KAPPIE_NFT_TABLE: 'ktNamed' }, 'sources').nftTable).toBe('ktNamed');
    // `kappie sources` gathers once: it takes the gathering options, and ignores serve's.
    const sources = resolveConfig({}, env, 'sources');
    expect(sources.statistics).toBe('all');
    expect(sources.listen).toEqual({ host: '', port: 10093 });
  });

  it('parses the HTTP limits and the reuse window, with defaults', () => {
    const defaults = resolveConfig({}, {});
    expect(defaults).toMatchObject({
      scrapeReuseSeconds: 0.5,
      maxConnections: 64,
      readHeaderTimeoutSeconds: 5,
      webConfigFile: undefined,
    });
    expect(resolveConfig({ scrapeReuseWindow: '2', maxConnections: '8' }, {})).toMatchObject({
      scrapeReuseSeconds: 2,
      maxConnections: 8,
    });
    expect(() => resolveConfig({}, { KAPPIE_SCRAPE_REUSE_WINDOW: '-1' })).toThrow(
      /KAPPIE_SCRAPE_REUSE_WINDOW: "-1" is not a number of seconds from 0 to 60/,
    );
    expect(() => resolveConfig({ maxConnections: '0' }, {})).toThrow(/--max-connections/);
  });

  it('parses listen addresses of every form', () => {
    expect(parseListen('[::1]:10093', 'x')).toEqual({ host: '::1', port: 10093 });
    expect(parseListen('0.0.0.0:1', 'x')).toEqual({ host: '0.0.0.0', port: 1 });
    expect(parseListen(':0', 'x')).toEqual({ host: '', port: 0 });
    // $(HOST_IP):10093 from the downward API on an IPv6 node: no brackets, the port after the last colon.
    expect(parseListen('fd00:6b61::4:10093', 'x')).toEqual({ host: 'fd00:6b61::4', port: 10093 });
    expect(parseListen('10.224.0.4:10093', 'x')).toEqual({ host: '10.224.0.4', port: 10093 });
    expect(() => parseListen('fd00::zz:10093', 'x')).toThrow(ConfigError);
    expect(() => parseListen(':x', 'x')).toThrow(ConfigError);
    expect(() => parseListen(':65536', 'x')).toThrow(ConfigError);
  });
});

describe('globMatcher', () => {
  it('matches whole names with * and ?', () => {
    const match = globMatcher(['veth*', 'eth?']);
    expect(match('veth1234')).toBe(true);
    expect(match('eth0')).toBe(true);
    expect(match('eth10')).toBe(false);
    expect(match('myveth0')).toBe(false);
    expect(globMatcher([])('anything')).toBe(false);
  });
});

describe('checkPathOptions', () => {
  const origins = { procPath: '--proc-path', sysPath: 'KAPPIE_SYS_PATH' };

  it('accepts the live procfs and sysfs, and a process procfs root', () => {
    expect(() => checkPathOptions({ procPath: '/proc', sysPath: '/sys' }, origins, 'linux')).not.toThrow();
    expect(() =>
      checkPathOptions({ procPath: `/proc/${process.pid}`, sysPath: '/sys' }, origins, 'linux'),
    ).not.toThrow();
  });

  it('refuses a missing directory, a file, and a directory that is not the mount it names', () => {
    expect(() => checkPathOptions({ procPath: '/nonexistent', sysPath: '/sys' }, origins, 'linux')).toThrow(
      '--proc-path: "/nonexistent" does not exist (it should be a procfs mount such as /proc or /host/proc)',
    );
    expect(() => checkPathOptions({ procPath: '/etc/hostname', sysPath: '/sys' }, origins, 'linux')).toThrow(
      /--proc-path: "\/etc\/hostname" is not a directory/,
    );
    expect(() => checkPathOptions({ procPath: '/proc', sysPath: '/tmp' }, origins, 'linux')).toThrow(
      'KAPPIE_SYS_PATH: "/tmp" is not a sysfs mount such as /sys or /host/sys: it has no class/net',
    );
  });

  it('checks nothing on Windows, which reads neither', () => {
    expect(() =>
      checkPathOptions({ procPath: '/nonexistent', sysPath: '/nonexistent' }, origins, 'windows'),
    ).not.toThrow();
  });
});
