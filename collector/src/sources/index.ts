/**
 * Every source the collector knows, as factories, and the choice of which run. A factory call makes a source whose
 * state (totals, notes, what it installed in the kernel) lives in its own closure, so two gatherers in one process
 * (tests, `snapshot` beside `serve`) never share it. Adding a source is adding its factory to SOURCE_FACTORIES.
 */
import type { Platform } from '../catalog';
import type { CollectorConfig } from '../config';
import { ConfigError } from '../errors';
import type { Source } from '../source';
import { createDropsSource } from './linux/drops/drops-source';
import { createEthtoolSource } from './linux/ethtool';
import { createForwardSource } from './linux/forward';
import { createNetdevSource } from './linux/netdev';
import { createSnmpSource } from './linux/snmp';
import { createSockstatSource } from './linux/sockstat';
import { createTcpFlagsSource } from './linux/tcp-flags';
import { createTcpSocketsSource } from './linux/tcp-sockets';
import { createWindowsHyperVDropsSource } from './windows/hyperv-drop-reasons';
import { createWindowsInterfacesSource } from './windows/interfaces';
import { createWindowsTcpStateSource } from './windows/tcp-state';
import { createWindowsTcpStatisticsSource } from './windows/tcp-statistics';
import { createWindowsVfpSource } from './windows/vfp-port-counters';

/**
 * The factories, in gathering order (the order matters to no source: each keeps to itself).
 */
export const SOURCE_FACTORIES: readonly (() => Source)[] = [
  createSockstatSource,
  createNetdevSource,
  createForwardSource,
  createEthtoolSource,
  createSnmpSource,
  createTcpSocketsSource,
  createDropsSource,
  createTcpFlagsSource,
  createWindowsTcpStateSource,
  createWindowsTcpStatisticsSource,
  createWindowsInterfacesSource,
  createWindowsHyperVDropsSource,
  createWindowsVfpSource,
];

/** A new instance of every source, in gathering order. */
export function createSources(): Source[] {
  return SOURCE_FACTORIES.map((create) => create());
}

export function currentPlatform(): Platform {
  return process.platform === 'win32' ? 'windows' : 'linux';
}

/**
 * The sources to run on this platform after --sources and --disable-sources, from `known` (new instances of every
 * source unless given); unknown names are a ConfigError.
 */
export function selectSources(
  config: Pick<CollectorConfig, 'sources' | 'disabledSources'>,
  platform: Platform,
  known: readonly Source[] = createSources(),
): Source[] {
  const names = new Set(known.map((source) => source.name));
  const check = (option: string, list: readonly string[]) => {
    for (const name of list) {
      if (!names.has(name)) {
        throw new ConfigError(option, `unknown source "${name}" (known: ${[...names].join(', ')})`);
      }
    }
  };
  check('--sources', config.sources);
  check('--disable-sources', config.disabledSources);
  const wanted = config.sources.length > 0 ? new Set(config.sources) : undefined;
  const disabled = new Set(config.disabledSources);
  const onPlatform = known.filter((source) => source.platforms.includes(platform));
  if (wanted) {
    for (const name of wanted) {
      if (!onPlatform.some((source) => source.name === name)) {
        throw new ConfigError('--sources', `source "${name}" does not run on ${platform}`);
      }
    }
  }
  return onPlatform.filter((source) => (wanted ? wanted.has(source.name) : true) && !disabled.has(source.name));
}
