#!/usr/bin/env -S node --max-semi-space-size=1
/**
 * The `kappie` command: `serve` (the default) runs the collector, `snapshot` prints one gathering as tables,
 * `sources` lists what can be gathered. Every option also comes from an environment variable; flags win.
 * Bad values print one line naming the option and what it accepts, and exit with code 2.
 *
 * The shebang caps V8's young generation at 1 MiB per semi-space (also in `npm start` and the container command):
 * a scrape allocates little, and by default the young generation grows to ~16 MiB of resident memory for no gain
 * (measured with every Linux source: 67 -> 58 MiB RSS after 30 gatherings).
 */
import { Command, CommanderError, Option } from 'commander';
import type * as http from 'node:http';
import { currentBuildInfo } from './build-info';
import { OPTIONS, resolveConfig, type CollectorConfig } from './config';
import { ConfigError, describeError } from './errors';
import { DEFAULT_DASHBOARDS_DIR, DEFAULT_FOLDER, GrafanaPushError, pushDashboards } from './grafana-push';
import { Exposition } from './exposition';
import { Gatherer } from './gatherer';
import { createHostFs } from './kernel/host-fs';
import { createLogger, silentLogger, type Logger } from './log';
import { createRequestHandler, listen } from './server';
import { renderSnapshot } from './snapshot-table';
import { createSources, currentPlatform, selectSources } from './sources';
import type { SourceContext } from './source';

export const EXIT_USAGE = 2;

function addCollectorOptions(command: Command): Command {
  for (const spec of OPTIONS) {
    const flags = spec.valueName ? `--${spec.flag} <${spec.valueName}>` : `--${spec.flag} [BOOL]`;
    command.addOption(new Option(flags, `${spec.description} [env ${spec.env}; default ${spec.defaultText}]`));
  }
  return command;
}

function configFrom(command: Command): CollectorConfig {
  return resolveConfig(command.opts(), process.env);
}

function contextFor(config: CollectorConfig, log: Logger, oneShot = false): SourceContext {
  return { config, fs: createHostFs(config), log, oneShot };
}

async function serve(config: CollectorConfig): Promise<void> {
  const log = createLogger(config.logLevel);
  const sources = selectSources(config, currentPlatform());
  const gatherer = new Gatherer(sources, contextFor(config, log));
  const buildInfo = currentBuildInfo();
  const exposition = new Exposition(gatherer, config, buildInfo);
  const running: { server?: http.Server } = {};
  let stopping: Promise<void> | undefined;

  const shutdown = (why: string, exitCode: number) => {
    stopping ??= (async () => {
      log.info({ why }, 'shutting down: removing what the sources installed');
      running.server?.close();
      running.server?.closeAllConnections();
      await gatherer.stop();
      log.info('stopped');
      process.exit(exitCode);
    })();
    return stopping;
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('uncaughtException', (error) => {
    log.fatal({ err: describeError(error), stack: error.stack }, 'fatal error');
    void shutdown('fatal error', 1);
  });
  process.on('unhandledRejection', (error) => {
    log.fatal({ err: describeError(error) }, 'fatal error (unhandled rejection)');
    void shutdown('fatal error', 1);
  });

  const server = await listen(
    createRequestHandler({ exposition, gatherer, buildInfo, nodeName: config.nodeName, log }),
    config.listen,
  );
  running.server = server;
  const bound = server.address();
  log.info(
    { listen: bound, sources: sources.map((s) => s.name), nodeName: config.nodeName, prefix: config.metricPrefix },
    `serving /metrics on port ${typeof bound === 'object' && bound ? bound.port : config.listen.port}`,
  );
  // The first gathering starts the sources (tracefs instance, nft table) and makes /readyz ready.
  await gatherer.gather().catch((error: unknown) => log.error({ err: describeError(error) }, 'first gathering failed'));
}

async function snapshot(config: CollectorConfig, json: boolean): Promise<void> {
  const sources = selectSources(config, currentPlatform());
  const gatherer = new Gatherer(sources, contextFor(config, silentLogger(), true));
  try {
    const gathering = await gatherer.gather();
    process.stdout.write(json ? `${JSON.stringify(gathering, null, 2)}\n` : renderSnapshot(gathering));
  } finally {
    await gatherer.stop();
  }
}

export function buildProgram(): Command {
  const program = new Command('kappie')
    .description(
      'Kappie node collector: exports the kappie_* network metrics (forwarded and dropped packets, TCP states and\n' +
        'statistics, TCP flags, UDP sockets, interface statistics) in Prometheus format.',
    )
    .version(currentBuildInfo().version)
    .showHelpAfterError('(run with --help for every option)')
    .exitOverride();

  addCollectorOptions(
    program
      .command('serve', { isDefault: true })
      .description('run the collector and serve /metrics, /healthz, /readyz and a status page at /'),
  ).action(async (_options: unknown, command: Command) => serve(configFrom(command)));

  addCollectorOptions(
    program
      .command('snapshot')
      .description('gather once and print drops, TCP states, top peers and interfaces as tables (for kubectl exec)')
      .option('--json', 'print the gathering as JSON instead of tables'),
  ).action(async (options: { json?: boolean }, command: Command) =>
    snapshot(configFrom(command), options.json === true),
  );

  program
    .command('sources')
    .description('list the sources, the metrics each fills, and the platforms they run on')
    .action(() => {
      for (const source of createSources()) {
        process.stdout.write(
          `${source.name.padEnd(22)} ${source.platforms.join(',').padEnd(14)} ${source.metrics.join(', ')}\n` +
            `${' '.repeat(23)}${source.description}\n`,
        );
      }
    });

  const dashboards = program
    .command('dashboards')
    .description("Kappie's Grafana dashboards (for a Grafana without the app plugin, e.g. Azure Managed Grafana)");
  dashboards
    .command('push')
    .description('create or update every Kappie dashboard in a Grafana through its HTTP API (idempotent)')
    .addOption(new Option('--url <URL>', 'Grafana root URL').env('GRAFANA_URL'))
    .addOption(new Option('--token <TOKEN>', 'Grafana service account token (Editor role)').env('GRAFANA_TOKEN'))
    .option('--folder <NAME>', 'folder to put the dashboards in (created when missing)', DEFAULT_FOLDER)
    .addOption(
      new Option('--dir <DIR>', 'directory of the dashboard JSON files')
        .env('KAPPIE_DASHBOARDS_DIR')
        .default(DEFAULT_DASHBOARDS_DIR, 'dashboards/generated of this repository'),
    )
    .option('--force', 'save every dashboard even when Grafana already has its revision (undoes UI edits)')
    .action(async (options: { url?: string; token?: string; folder: string; dir: string; force?: boolean }) => {
      if (!options.url) throw new ConfigError('--url', 'is required (the Grafana root URL, or set GRAFANA_URL)');
      if (!options.token)
        throw new ConfigError('--token', 'is required (a service account token, or set GRAFANA_TOKEN)');
      const results = await pushDashboards({
        url: options.url,
        token: options.token,
        folder: options.folder,
        dir: options.dir,
        force: options.force === true,
        report: (line) => process.stdout.write(`${line}\n`),
      });
      const changed = results.filter((r) => r.outcome !== 'unchanged').length;
      process.stdout.write(
        `${results.length} dashboards in folder "${options.folder}", ${changed} created or updated\n`,
      );
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version print themselves and exit 0; usage errors were printed by commander.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`kappie: invalid ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof GrafanaPushError) {
      process.stderr.write(`kappie: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`kappie: ${describeError(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`kappie: ${describeError(error)}\n`);
      process.exit(1);
    },
  );
}
