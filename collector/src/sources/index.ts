/**
 * Every source the collector knows, and the choice of which run. Adding a source is adding it to SOURCES.
 */
import type { Platform } from '../catalog';
import type { CollectorConfig } from '../config';
import { ConfigError } from '../errors';
import type { Source } from '../source';
import { dropCountersSource } from './linux/drop-counters';
import { dropReasonsSource } from './linux/drop-reasons';
import { forwardSource } from './linux/forward';
import { netdevSource } from './linux/netdev';
import { snmpSource } from './linux/snmp';
import { sockstatSource } from './linux/sockstat';
import { tcpFlagsSource } from './linux/tcp-flags';
import { tcpSocketsSource } from './linux/tcp-sockets';
import { windowsHyperVDropsSource } from './windows/hyperv-drop-reasons';
import { windowsInterfacesSource } from './windows/interfaces';
import { windowsTcpStateSource } from './windows/tcp-state';
import { windowsTcpStatisticsSource } from './windows/tcp-statistics';
import { windowsVfpSource } from './windows/vfp-port-counters';

/** drop_reasons runs before drop_counters: the counters decide at each gathering whether tracefs is counting. */
export const SOURCES: readonly Source[] = [
  sockstatSource,
  netdevSource,
  forwardSource,
  snmpSource,
  tcpSocketsSource,
  dropReasonsSource,
  dropCountersSource,
  tcpFlagsSource,
  windowsTcpStateSource,
  windowsTcpStatisticsSource,
  windowsInterfacesSource,
  windowsHyperVDropsSource,
  windowsVfpSource,
];

export function currentPlatform(): Platform {
  return process.platform === 'win32' ? 'windows' : 'linux';
}

/** The sources to run on this platform after --sources and --disable-sources; unknown names are a ConfigError. */
export function selectSources(
  config: Pick<CollectorConfig, 'sources' | 'disabledSources'>,
  platform: Platform,
  known: readonly Source[] = SOURCES,
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
