#!/usr/bin/env -S node --max-semi-space-size=1 --no-opt --optimize-for-size
/**
 * The `kappie` command: `serve` (the default) runs the collector, `snapshot` prints one gathering as tables,
 * `sources` lists each source's state and what it fills. Every option also comes from an environment variable; flags win.
 * Bad values print one line naming the option and what it accepts, and exit with code 2.
 *
 * The shebang caps V8's young generation at 1 MiB per semi-space (also in `npm start` and the container command):
 * a scrape allocates little, and by default the young generation grows to ~16 MiB of resident memory for no gain
 * (measured with every Linux source: 67 -> 58 MiB RSS after 30 gatherings). `--no-opt` leaves out V8's optimizing
 * compiler (TurboFan; the interpreter and the baseline compiler still run): its machine code in the node binary and
 * its optimized code and feedback cost ~6 MiB of resident memory (66 -> 60 MiB after 30 gatherings with every Linux
 * source), and a gathering every 15-60 s is too rare for optimization to pay: CPU per scrape was no higher without
 * it at 1k and 16k sockets (bench/RESULTS.md has the 100k case). `--optimize-for-size` makes V8 collect the old
 * generation before it grows far past what is live: with a 1 MiB semi-space much of a gathering's garbage is promoted
 * (a 1000-interface link dump outlives several scavenges), and by default the old generation grew to ~4x the live
 * heap between full collections (RSS 50 -> 42 MiB at 1000 pod interfaces, no measurable CPU cost at 1k sockets).
 */
import { Command, CommanderError, Option } from 'commander';
import { currentBuildInfo } from './build-info';
import { describeOption, kappieHelpConfiguration, setHelpAfterErrorHints } from './cli-help';
import type { Platform } from './catalog';
import {
  descriptionFor,
  flagProperty,
  OPTIONS,
  resolveConfigWithOrigins,
  type CollectorCommand,
  type CollectorConfig,
  type OptionOrigins,
} from './config';
import { checkPathOptions } from './config-paths';
import { ConfigError, describeError, InterruptedError } from './errors';
import { DEFAULT_DASHBOARDS_DIR, DEFAULT_FOLDER, GrafanaPushError, pushDashboards } from './grafana-push';
import { Gatherer } from './gatherer';
import { installedObjects, type InstalledObject } from './installed-state';
import { createHostFs } from './kernel/host-fs';
import { releaseStartupPages } from './kernel/startup-pages';
import { createLogger, silentLogger, type Logger } from './log';
import { onTerminatingSignals } from './signals';
import { startServer, type RunningServer } from './server';
import { DEFAULT_SNAPSHOT_DURATION_SECONDS, runSnapshot } from './snapshot-command';
import { ServingCollectorError, DEFAULT_SERVE_PORT } from './serving-collector';
import { renderSources } from './sources-table';
import { createSources, currentPlatform, selectSources } from './sources';
import type { Source, SourceContext } from './source';
import type * as webConfigModule from './web/web-config';
import type * as webConfigFileModule from './web/web-config-file';

export const EXIT_USAGE = 2;

/** The command run when none is given (see withDefaultCommand). */
const DEFAULT_COMMAND = 'serve';

function addCollectorOptions(command: Command, name: CollectorCommand): Command {
  for (const spec of OPTIONS) {
    if (!(spec.commands as readonly CollectorCommand[]).includes(name)) continue;
    const flags = spec.valueName ? `--${spec.flag} <${spec.valueName}>` : `--${spec.flag} [BOOL]`;
    command.addOption(
      new Option(flags, describeOption(descriptionFor(spec, name), { env: spec.env, defaultText: spec.defaultText })),
    );
  }
  return command;
}

/** The config of `name` from the command's flags and the environment, with where each value came from. */
function configFrom(command: Command, name: CollectorCommand): { config: CollectorConfig; origins: OptionOrigins } {
  return resolveConfigWithOrigins(command.opts(), process.env, name);
}

/**
 * The sources to run. An unknown source name is reported against what the user set: the flag, or the environment
 * variable (KAPPIE_SOURCES) when the value came from there.
 */
function sourcesFor(config: CollectorConfig, origins: OptionOrigins, platform: Platform): Source[] {
  try {
    return selectSources(config, platform);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.option === '--sources') throw error.naming(origins.sources);
    if (error.option === '--disable-sources') throw error.naming(origins.disabledSources);
    throw error;
  }
}

function contextFor(config: CollectorConfig, log: Logger, oneShot = false): SourceContext {
  return { config, fs: createHostFs(config), log, oneShot };
}

function installedOn(platform: Platform, config: CollectorConfig): InstalledObject[] {
  return platform === 'linux' ? installedObjects(config) : [];
}

/**
 * The web configuration file, or undefined without --web-config-file. Its modules (zod, yaml, node:tls: about 6 MiB
 * of resident memory) are loaded only when there is a file to read.
 */
function loadWebConfig(
  config: CollectorConfig,
  origins: OptionOrigins,
  log: Logger,
): webConfigFileModule.WebConfigFile | undefined {
  if (config.webConfigFile === undefined) return undefined;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { WebConfigError } = require('./web/web-config') as typeof webConfigModule;
  const { WebConfigFile } = require('./web/web-config-file') as typeof webConfigFileModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  try {
    return new WebConfigFile(config.webConfigFile, log);
  } catch (error) {
    if (error instanceof WebConfigError) throw new ConfigError(origins.webConfigFile, error.message);
    throw error;
  }
}

async function serve(config: CollectorConfig, origins: OptionOrigins): Promise<void> {
  const platform = currentPlatform();
  checkPathOptions(config, origins, platform);
  const log = createLogger(config.logLevel);
  const sources = sourcesFor(config, origins, platform);
  const webConfig = loadWebConfig(config, origins, log);
  const context = contextFor(config, log);
  const gatherer = new Gatherer(sources, context);
  const running: { server?: RunningServer } = {};
  let stopping: Promise<void> | undefined;

  const shutdown = (why: string, exitCode: number) => {
    stopping ??= (async () => {
      log.info({ why }, 'shutting down: removing what the sources installed');
      await running.server?.close();
      await gatherer.stop();
      context.fs.close();
      log.info('stopped');
      process.exit(exitCode);
    })();
    return stopping;
  };
  onTerminatingSignals(log, (signal) => shutdown(signal, 0));
  process.on('uncaughtException', (error) => {
    log.fatal({ err: describeError(error), stack: error.stack }, 'fatal error');
    void shutdown('fatal error', 1);
  });
  process.on('unhandledRejection', (error) => {
    log.fatal({ err: describeError(error) }, 'fatal error (unhandled rejection)');
    void shutdown('fatal error', 1);
  });

  const server = await startServer({
    config,
    gatherer,
    buildInfo: currentBuildInfo(),
    log,
    installed: installedOn(platform, config),
    webConfig,
  });
  running.server = server;
  log.info(
    {
      listen: server.address,
      tls: webConfig?.current().tls !== undefined,
      basicAuth: (webConfig?.current().config.basicAuthUsers.size ?? 0) > 0,
      sources: sources.map((s) => s.name),
      nodeName: config.nodeName,
      prefix: config.metricPrefix,
    },
    `serving /metrics on port ${server.address.port}`,
  );
  // The first gathering starts the sources (tracefs instance, nft table) and makes /readyz ready. Until it ends,
  // nothing is counted by what the sources install (the nft flag table), so say when it has.
  const first = await gatherer
    .gather()
    .catch((error: unknown) => log.error({ err: describeError(error) }, 'first gathering failed'));
  if (platform === 'linux') releaseStartupMemory(log);
  // Stopping already (a signal during the first gathering): ready would be the wrong last word.
  if (first === undefined || stopping !== undefined) return;
  const down = first.sources.filter((status) => !status.up).map((status) => status.name);
  if (gatherer.ready) {
    log.info({ down }, 'ready: the sources are started (counting from now) and /readyz answers 200');
  } else {
    log.warn({ down }, 'not ready: no source is up; /readyz answers 503 (see the reasons logged above)');
  }
}

/**
 * Once started, the collector gives back the pages of the node binary and libraries that only starting up touched
 * (kernel/startup-pages.ts): about 20 MiB of resident memory with every Linux source, nothing lost.
 */
function releaseStartupMemory(log: Logger): void {
  try {
    const released = releaseStartupPages();
    log.debug(
      { mappings: released.mappings, mebibytes: Number((released.bytes / 2 ** 20).toFixed(1)) },
      'released the resident pages of the node binary and libraries that only starting up used',
    );
  } catch (error) {
    log.warn(
      { err: describeError(error) },
      'could not release the pages only starting up used: resident memory stays ~20 MiB higher, nothing else changes',
    );
  }
}

async function snapshot(
  config: CollectorConfig,
  origins: OptionOrigins,
  options: { json?: boolean; from?: string; duration?: string },
  gatheringFlags: readonly string[],
): Promise<void> {
  const platform = currentPlatform();
  checkPathOptions(config, origins, platform);
  await runSnapshot({
    config,
    origins,
    sources: sourcesFor(config, origins, platform),
    json: options.json === true,
    from: options.from,
    duration: options.duration,
    listenEnv: process.env.KAPPIE_LISTEN,
    write: (text) => process.stdout.write(text),
    progress: (line) => process.stderr.write(`${line}\n`),
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
    gatheringFlags,
  });
}

/**
 * `kappie sources`: gathers once as `snapshot` does (installing nothing) and prints each source's state with the
 * reason or note, the metrics it fills, what it reads, and the kernel objects `serve` installs, as configured.
 */
async function listSources(config: CollectorConfig, origins: OptionOrigins): Promise<void> {
  const platform = currentPlatform();
  checkPathOptions(config, origins, platform);
  const context = contextFor(config, silentLogger(), true);
  const gatherer = new Gatherer(sourcesFor(config, origins, platform), context);
  try {
    const gathering = await gatherer.gather();
    const report = {
      sources: createSources(),
      platform,
      gathering,
      installed: installedOn(platform, config),
      width: process.stdout.isTTY ? process.stdout.columns : undefined,
    };
    process.stdout.write(renderSources(report));
  } finally {
    await gatherer.stop();
    context.fs.close();
  }
}

export function buildProgram(): Command {
  const program = new Command('kappie')
    .description(
      // One line: commander wraps descriptions to the terminal's width, so a newline here would break one mid-line.
      'Kappie node collector: exports the kappie_* network metrics (forwarded and dropped packets, TCP states and ' +
        'statistics, TCP flags, UDP sockets, interface statistics) in Prometheus format.',
    )
    .version(currentBuildInfo().version)
    // Before the subcommands are made: they copy it (every option's [env X; default Y] note is written one way).
    .configureHelp(kappieHelpConfiguration(process.env))
    .exitOverride();

  addCollectorOptions(
    program
      .command('serve')
      .description(
        'run the collector and serve /metrics, /healthz, /readyz and a status page at / (the command when none is given)',
      ),
    'serve',
  ).action(async (_options: unknown, command: Command) => {
    const { config, origins } = configFrom(command, 'serve');
    await serve(config, origins);
  });

  addCollectorOptions(
    program
      .command('snapshot')
      .description(
        "print drops by reason, TCP states, top peers, TCP flags and interfaces as tables (for kubectl exec): a serving collector's totals, read from its /metrics, else counted here (drops for --duration)",
      )
      .option('--json', 'print the gathering as JSON (metrics by catalog name, with where they came from)')
      .option(
        '--from <URL>',
        describeOption(
          'the /metrics of the collector to read (http or https; basic auth as https://user:password@host:port/metrics); "none" gathers here even when a collector serves',
          {
            defaultText: `where \`kappie serve\` listens here (KAPPIE_LISTEN, else http://127.0.0.1:${DEFAULT_SERVE_PORT}/metrics), gathering here when nothing answers`,
          },
        ),
      )
      .option(
        '--duration <SECONDS>',
        describeOption(
          'when gathering here: seconds to count drops in a tracefs instance of its own (--tracefs-instance + "-snapshot"); 0 reads the kernel drop counters (totals since boot) at once, with --drop-reader auto or counters',
          { defaultText: String(DEFAULT_SNAPSHOT_DURATION_SECONDS) },
        ),
      ),
    'snapshot',
  ).action(async (options: { json?: boolean; from?: string; duration?: string }, command: Command) => {
    const { config, origins } = configFrom(command, 'snapshot');
    const given = OPTIONS.filter((spec) => command.getOptionValueSource(flagProperty(spec.flag)) === 'cli');
    await snapshot(
      config,
      origins,
      options,
      given.map((spec) => `--${spec.flag}`),
    );
  });

  addCollectorOptions(
    program
      .command('sources')
      .description(
        "gather once and list each source's state (up or down, with the reason or note), the metrics it fills, " +
          'what it reads, and what serve installs in the kernel',
      ),
    'sources',
  ).action(async (_options: unknown, command: Command) => {
    const { config, origins } = configFrom(command, 'sources');
    await listSources(config, origins);
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
  setHelpAfterErrorHints(program);
  return program;
}

/**
 * `kappie` alone, or followed by options only, is `kappie serve ...` (the container's command). Any other first word
 * is left to commander, which says "unknown command" and suggests the nearest one; a default command in commander
 * itself would take a mistyped command as an argument of serve instead.
 */
export function withDefaultCommand(argv: readonly string[]): string[] {
  const [node = '', script = '', first, ...rest] = argv;
  const programOption = first === '-h' || first === '--help' || first === '-V' || first === '--version';
  if (first === undefined) return [node, script, DEFAULT_COMMAND];
  if (first.startsWith('-') && !programOption) return [node, script, DEFAULT_COMMAND, first, ...rest];
  return [...argv];
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(withDefaultCommand(argv));
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
    if (error instanceof GrafanaPushError || error instanceof ServingCollectorError) {
      process.stderr.write(`kappie: ${error.message}\n`);
      return 1;
    }
    if (error instanceof InterruptedError) {
      process.stderr.write(`kappie: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`kappie: ${describeError(error)}\n`);
    return 1;
  }
}

/** Runs the command line and exits with its code when it fails (a serving collector keeps the process alive). */
export function run(argv: readonly string[]): void {
  main(argv).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (error: unknown) => {
      process.stderr.write(`kappie: ${describeError(error)}\n`);
      process.exit(1);
    },
  );
}

// Run directly (`node collector/dist/cli.js`, the container's /usr/local/bin/kappie) or through bin/kappie.js.
if (require.main === module) run(process.argv);
