/** Runs the collector's HTTP server in this process on an ephemeral port, with the sources a test chooses. */
import { currentBuildInfo } from '../../src/build-info';
import { resolveConfig, type CollectorConfig } from '../../src/config';
import { Exposition } from '../../src/exposition';
import { Gatherer } from '../../src/gatherer';
import { installedObjects } from '../../src/installed-state';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger, type Logger } from '../../src/log';
import { createRequestHandler, listen, type RunningServer } from '../../src/server';
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

export async function startCollector(
  sources: readonly Source[],
  flags: Record<string, string | boolean> = {},
  log: Logger = silentLogger(),
): Promise<RunningCollector> {
  const config = resolveConfig({ listen: '127.0.0.1:0', nodeName: 'test-node', ...flags }, {});
  const gatherer = new Gatherer(sources, { config, fs: createHostFs(config), log });
  const buildInfo = currentBuildInfo();
  const exposition = new Exposition(gatherer, config, buildInfo);
  const webConfig = config.webConfigFile === undefined ? undefined : new WebConfigFile(config.webConfigFile, log);
  const handler = createRequestHandler({
    exposition,
    gatherer,
    buildInfo,
    nodeName: config.nodeName,
    log,
    installed: installedObjects(config),
    scrapeReuseSeconds: config.scrapeReuseSeconds,
    webConfig,
  });
  const server = await listen(handler, config.listen, {
    log,
    webConfig,
    limits: { maxConnections: config.maxConnections, readHeaderTimeoutMs: config.readHeaderTimeoutSeconds * 1000 },
  });
  const { port } = server.address;
  const scheme = webConfig?.current().tls ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    gatherer,
    config,
    server,
    async close() {
      await server.close();
      await gatherer.stop();
    },
  };
}
