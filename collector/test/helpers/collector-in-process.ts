/** Runs the collector's HTTP server in this process on an ephemeral port, with the sources a test chooses. */
import type { AddressInfo } from 'node:net';
import type * as http from 'node:http';
import { currentBuildInfo } from '../../src/build-info';
import { resolveConfig, type CollectorConfig } from '../../src/config';
import { Exposition } from '../../src/exposition';
import { Gatherer } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger } from '../../src/log';
import { createRequestHandler, listen } from '../../src/server';
import type { Source } from '../../src/source';

export interface RunningCollector {
  readonly url: string;
  readonly gatherer: Gatherer;
  readonly config: CollectorConfig;
  close(): Promise<void>;
}

export async function startCollector(
  sources: readonly Source[],
  flags: Record<string, string | boolean> = {},
): Promise<RunningCollector> {
  const config = resolveConfig({ listen: '127.0.0.1:0', nodeName: 'test-node', ...flags }, {});
  const log = silentLogger();
  const gatherer = new Gatherer(sources, { config, fs: createHostFs(config), log });
  const buildInfo = currentBuildInfo();
  const exposition = new Exposition(gatherer, config, buildInfo);
  const server: http.Server = await listen(
    createRequestHandler({ exposition, gatherer, buildInfo, nodeName: config.nodeName, log }),
    config.listen,
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    gatherer,
    config,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gatherer.stop();
    },
  };
}
