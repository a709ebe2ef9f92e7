/** Runs the collector's HTTP server in this process on an ephemeral port, with the sources a test chooses. */
import { currentBuildInfo } from '../../src/build-info';
import { resolveConfig, type CollectorConfig } from '../../src/config';
import { Gatherer } from '../../src/gatherer';
import { installedObjects } from '../../src/installed-state';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger, type Logger } from '../../src/log';
import { startServer, type RunningServer } from '../../src/server';
import type { Source } from '../../src/source';
import { WebConfigFile } from '../../src/web/web-config-file';

export interface RunningCollector {
  /** http://127.0.0.1:<port>, or https:// with a web configuration that enables TLS. */
  readonly url: string;
  readonly port: number;
  readonly gatherer: Gatherer;
  readonly config: CollectorConfig;
  readonly server: RunningServer;
  close(): Promise<void>;
}

/** Serves `sources` the way `kappie serve` does (server.ts' startServer), on 127.0.0.1 and a free port by default. */
export async function startCollector(
  sources: readonly Source[],
  flags: Record<string, string | boolean> = {},
  log: Logger = silentLogger(),
): Promise<RunningCollector> {
  // Counter series born above 0 are exported at once unless a test asks for the hold (series-birth.ts).
  const config = resolveConfig({ listen: '127.0.0.1:0', nodeName: 'test-node', newSeriesHold: '0', ...flags }, {});
  const hostFs = createHostFs(config);
  const gatherer = new Gatherer(sources, { config, fs: hostFs, log });
  const webConfig = config.webConfigFile === undefined ? undefined : new WebConfigFile(config.webConfigFile, log);
  const server = await startServer({
    config,
    gatherer,
    buildInfo: currentBuildInfo(),
    log,
    installed: installedObjects(config),
    webConfig,
  });
  return {
    url: server.url,
    port: server.address.port,
    gatherer,
    config,
    server,
    async close() {
      await server.close();
      await gatherer.stop();
      hostFs.close();
    },
  };
}
