/**
 * docker-compose.yml (the local BYO stack) and its Azure overlay are valid against the Compose Specification schema
 * (vendored in schemas/vendor, see SOURCE.md) and wire the pieces together as the collector, Prometheus and Grafana
 * need: one source of dashboards, the app installed before Grafana starts (or a stop that says what to run), every
 * provisioned data source with its plugin and its environment, a Grafana version that runs all of it.
 * Not exercised: `docker compose up` itself (no Docker engine on this machine); the install script the stack runs
 * first is run for real in install-app.test.ts.
 */
import Ajv from 'ajv';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import semver from 'semver';
import { parse } from 'yaml';
import { DASHBOARDS_DIR, readBundledDashboards } from '../../grafana-plugin/scripts/dashboards';
import pluginJson from '../../grafana-plugin/src/plugin.json';

const REPO = join(__dirname, '..', '..');
const readText = (relative: string) => readFileSync(join(REPO, relative), 'utf8');
const composeText = readText('docker-compose.yml');
const azureText = readText('docker-compose.azure.yml');
const compose = parse(composeText) as ComposeFile;
const azureOverlay = parse(azureText) as ComposeFile;
const schema = JSON.parse(readFileSync(join(__dirname, '..', 'schemas', 'vendor', 'compose-spec.json'), 'utf8'));

interface Mount {
  type?: string;
  source: string;
  target: string;
  read_only?: boolean;
}
interface Dependency {
  condition?: string;
}
interface Service {
  build?: { context: string; dockerfile: string };
  image?: string;
  command?: string[];
  network_mode?: string;
  cap_add?: string[];
  environment?: Record<string, string>;
  volumes?: (string | Mount)[];
  extra_hosts?: string[];
  ports?: string[];
  depends_on?: string[] | Record<string, Dependency>;
}
interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Compose's `${VAR:-default}` with no VAR set: the default. */
function withDefaults(value: string): string {
  return value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
}

/** Short (`src:dst[:ro]`) and long volume syntax as one shape; a source without `./` or `/` is a named volume. */
function mounts(service: Service): Mount[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') return volume;
    const [source = '', target = '', mode] = volume.split(':');
    const type = source.startsWith('.') || source.startsWith('/') ? 'bind' : 'volume';
    return { type, source, target, read_only: mode === 'ro' };
  });
}
function mountAt(service: Service, target: string): Mount | undefined {
  return mounts(service).find((m) => m.target === target);
}
const isRepoBind = (mount: Mount) => mount.type === 'bind' && mount.source.startsWith('./');

/** The repository path a container path of `service` shows, through the bind mount that covers it. */
function repoPathOf(service: Service, containerPath: string): string | undefined {
  for (const mount of mounts(service).filter(isRepoBind)) {
    if (containerPath === mount.target || containerPath.startsWith(`${mount.target}/`)) {
      return posix.normalize(posix.join(mount.source, containerPath.slice(mount.target.length)));
    }
  }
  return undefined;
}

function dependencyCondition(service: Service, dependency: string): string | undefined {
  const dependsOn = service.depends_on;
  if (Array.isArray(dependsOn)) return dependsOn.includes(dependency) ? 'service_started' : undefined;
  const entry = dependsOn?.[dependency];
  return entry ? (entry.condition ?? 'service_started') : undefined;
}

/**
 * `docker compose -f base -f overlay` for the keys the overlay uses, as the Compose Specification's merge rules say
 * ("Merge and override"): `environment` merges by variable, `volumes` by container path, other keys are replaced.
 */
function mergeCompose(base: ComposeFile, overlay: ComposeFile): ComposeFile {
  const services = { ...base.services };
  for (const [name, extra] of Object.entries(overlay.services)) {
    const current = services[name] ?? {};
    const volumes = new Map(mounts(current).map((mount) => [mount.target, mount]));
    for (const mount of mounts(extra)) volumes.set(mount.target, mount);
    services[name] = {
      ...current,
      ...extra,
      environment: { ...current.environment, ...extra.environment },
      volumes: [...volumes.values()],
    };
  }
  return { ...base, services };
}

interface DatasourceFile {
  datasources?: { type: string; uid: string; url?: string }[];
}
interface AppsFile {
  apps: { type: string; disabled?: boolean }[];
}

/** Provisioning files Grafana reads from a container folder: every file under the repository path mounted there. */
function provisioningFiles(service: Service, kind: string): string[] {
  const folder = `/etc/grafana/provisioning/${kind}`;
  return mounts(service)
    .filter((mount) => isRepoBind(mount) && (mount.target === folder || mount.target.startsWith(`${folder}/`)))
    .flatMap((mount) =>
      mount.target === folder
        ? readdirSync(join(REPO, mount.source))
            .filter((file) => /\.ya?ml$/.test(file))
            .map((file) => posix.join(mount.source, file))
        : [mount.source],
    );
}

/** Where each dashboard uid a Grafana service ends up with comes from: file providers and enabled apps. */
function dashboardSources(service: Service): Map<string, string[]> {
  const sources = new Map<string, string[]>();
  const add = (uid: string, source: string) => sources.set(uid, [...(sources.get(uid) ?? []), source]);
  for (const file of provisioningFiles(service, 'dashboards')) {
    const providers = (parse(readText(file)) as { providers: { options: { path: string } }[] }).providers;
    for (const provider of providers) {
      const folder = repoPathOf(service, provider.options.path);
      if (!folder) continue;
      for (const name of readdirSync(join(REPO, folder)).filter((f) => f.endsWith('.json'))) {
        const uid = (JSON.parse(readText(posix.join(folder, name))) as { uid?: string }).uid;
        if (uid) add(uid, `${file} (${name})`);
      }
    }
  }
  for (const file of provisioningFiles(service, 'plugins')) {
    for (const app of (parse(readText(file)) as AppsFile).apps.filter((a) => a.disabled !== true)) {
      // The app bundles every generated dashboard (grafana-plugin/scripts/dashboards.ts; build.test.ts checks it).
      if (app.type !== pluginJson.id) continue;
      for (const dashboard of readBundledDashboards(DASHBOARDS_DIR)) {
        if (dashboard.uid) add(dashboard.uid, `app ${app.type} (${dashboard.file})`);
      }
    }
  }
  return sources;
}

/**
 * Data source types (among those Kappie provisions) that Grafana `version` ships in its own binary, with no plugin to
 * install. Grafana's Prometheus data source docs: "The Prometheus data source bundled with Grafana 13.1 and earlier
 * continues to work as before"; from 13.2 on it is a plugin of its own.
 */
function coreDatasourceTypes(version: string): Set<string> {
  return new Set(semver.lt(version, '13.2.0') ? ['prometheus'] : []);
}
/** [plugins] preinstall_sync (GF_PLUGINS_PREINSTALL_SYNC) appeared in Grafana 12.1 (grafana/grafana#105292). */
const PREINSTALL_SYNC_SINCE = '12.1.0';
/** grafana/azure-prometheus-datasource src/plugin.json `dependencies.grafanaDependency`. */
const AZURE_PROMETHEUS_GRAFANA_DEPENDENCY = '>=11.5.0';

function grafanaVersion(service: Service): string {
  return (
    semver.coerce(
      withDefaults(service.image ?? '')
        .split(':')
        .pop(),
    )?.version ?? ''
  );
}

function preinstalledPlugins(service: Service): string[] {
  const env = service.environment ?? {};
  return [env.GF_PLUGINS_PREINSTALL_SYNC, env.GF_PLUGINS_PREINSTALL]
    .filter((value): value is string => typeof value === 'string')
    .flatMap((value) => value.split(','))
    .map((entry) => entry.trim().split('@')[0] ?? '');
}

/**
 * A repository path a fresh checkout has: tracked by git (a build output such as grafana-plugin/dist exists only
 * after a build), or, outside a git checkout, present.
 */
function inCheckout(relative: string): boolean {
  const git = spawnSync('git', ['ls-files', '--', relative], { cwd: REPO, encoding: 'utf8' });
  return git.status === 0 ? git.stdout.trim() !== '' : existsSync(join(REPO, relative));
}

function expectRepoPath(relative: string): void {
  const normalised = posix.normalize(relative).replace(/^\.\//, '').replace(/\/$/, '');
  expect(`${normalised} ${existsSync(join(REPO, normalised)) ? 'exists' : 'is missing'}`).toBe(`${normalised} exists`);
}

const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true });
const validateCompose = ajv.compile(schema);
const services = compose.services;
const [kappie, prometheus, grafana, install] = [
  services.kappie,
  services.prometheus,
  services.grafana,
  services['grafana-app-install'],
] as Service[];
const withAzure = mergeCompose(compose, azureOverlay);
const stacks = [
  ['docker-compose.yml', compose],
  ['docker-compose.yml + docker-compose.azure.yml', withAzure],
] as const;

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema, and so is the Azure overlay', () => {
    expect(validateCompose(compose) ? '' : ajv.errorsText(validateCompose.errors)).toBe('');
    expect(validateCompose(azureOverlay) ? '' : ajv.errorsText(validateCompose.errors)).toBe('');
    expect(validateCompose(withAzure) ? '' : ajv.errorsText(validateCompose.errors)).toBe('');
  });

  it('the schema rejects what Compose rejects', () => {
    expect(validateCompose({ services: { x: { image: 'a', volumes: [{ source: '/a' }] } } })).toBe(false);
    expect(validateCompose({ services: { x: { image: 'a', network_mod: 'host' } } })).toBe(false);
    expect(validateCompose({ servics: {} })).toBe(false);
    expect(validateCompose({ services: { x: { image: 'a', depends_on: { y: { condition: 'done' } } } } })).toBe(false);
  });

  it('says it needs Compose v2 when it uses the top-level name docker-compose 1.x rejects', () => {
    expect(compose.name).toBe('kappie');
    expect(composeText.split('\nname:')[0]).toMatch(/Docker Compose v2/);
  });

  it('runs the collector, Prometheus, the app install and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(['grafana', 'grafana-app-install', 'kappie', 'prometheus']);
  });

  it('builds the collector from collector/Dockerfile and gives it the host network and the host /proc and /sys', () => {
    expect(kappie?.build).toEqual({ context: '.', dockerfile: 'collector/Dockerfile' });
    expectRepoPath('collector/Dockerfile');
    expect(kappie?.network_mode).toBe('host');
    expect(kappie?.cap_add).toEqual(expect.arrayContaining(['NET_ADMIN', 'SYS_ADMIN']));
    const env = kappie?.environment ?? {};
    for (const [variable, host] of [
      ['KAPPIE_PROC_PATH', '/proc'],
      ['KAPPIE_SYS_PATH', '/sys'],
    ] as const) {
      const mount = mountAt(kappie as Service, env[variable] as string);
      expect(mount).toMatchObject({ source: host, read_only: true });
    }
    expect(mountAt(kappie as Service, env.KAPPIE_TRACEFS_PATH as string)?.read_only).not.toBe(true);
  });

  it('gives Prometheus the static scrape configuration and rules, and a route to the host-network collector', () => {
    const config = mountAt(prometheus as Service, '/etc/prometheus/prometheus.yml');
    expect(config?.source).toBe('./deploy/prometheus/prometheus-static.yml');
    expect(prometheus?.command).toContain(`--config.file=/etc/prometheus/prometheus.yml`);
    const scrape = parse(readText(config?.source as string)) as {
      rule_files: string[];
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    // rule_files are relative to the configuration file: each must land in a mounted, existing rules file.
    const rules = mountAt(prometheus as Service, '/etc/prometheus/rules');
    expect(rules?.source).toBe('./deploy/prometheus/rules');
    expect(scrape.rule_files.length).toBeGreaterThan(0);
    for (const file of scrape.rule_files) {
      const inContainer = posix.join('/etc/prometheus', file);
      expect(inContainer.startsWith('/etc/prometheus/rules/')).toBe(true);
      expectRepoPath(posix.join('deploy/prometheus', file));
    }
    const targetHosts = scrape.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    for (const target of targetHosts) {
      expect(prometheus?.extra_hosts).toContain(`${target.split(':')[0]}:host-gateway`);
    }
  });

  it('bind-mounts only paths a checkout has: Docker creates a missing source as an empty root-owned folder', () => {
    for (const [file, stack] of stacks) {
      for (const [name, service] of Object.entries(stack.services)) {
        for (const mount of mounts(service).filter(isRepoBind)) {
          const where = `${file} ${name}: ${mount.source}`;
          expect(`${where} ${inCheckout(mount.source) ? 'in the checkout' : 'not in a fresh checkout'}`).toBe(
            `${where} in the checkout`,
          );
        }
      }
    }
  });

  it('gives Grafana one source per dashboard: an enabled app imports its dashboards over any with the same uid', () => {
    for (const [file, stack] of stacks) {
      const sources = dashboardSources(stack.services.grafana as Service);
      const ambiguous = [...sources].filter(([, from]) => from.length > 1);
      expect({ file, ambiguous }).toEqual({ file, ambiguous: [] });
      // The stack does have the dashboards: every generated one, from the app.
      const generated = readBundledDashboards(DASHBOARDS_DIR).flatMap((dashboard) => dashboard.uid ?? []);
      expect([...sources.keys()].sort()).toEqual(generated.sort());
    }
  });

  it('installs the app into Grafana before Grafana starts, from the build, and stops the stack when there is none', () => {
    const apps = provisioningFiles(grafana as Service, 'plugins').flatMap(
      (file) => (parse(readText(file)) as AppsFile).apps,
    );
    expect(apps.map((app) => app.type)).toEqual([pluginJson.id]);
    // Grafana loads the app from a named volume the install service fills...
    const appMount = mountAt(grafana as Service, `/var/lib/grafana/plugins/${pluginJson.id}`);
    expect(appMount).toMatchObject({ type: 'volume', read_only: true });
    expect(Object.keys(compose.volumes ?? {})).toContain(appMount?.source);
    const env = install?.environment ?? {};
    expect(env.KAPPIE_APP_ID).toBe(pluginJson.id);
    expect(mountAt(install as Service, env.KAPPIE_APP_DIR as string)).toMatchObject({
      type: 'volume',
      source: appMount?.source,
    });
    // ...from grafana-plugin/dist, seen through its parent folder (which always exists)...
    expect(repoPathOf(install as Service, env.KAPPIE_APP_BUILD as string)).toBe('grafana-plugin/dist');
    expect(install?.command).toEqual(['sh', '/kappie/install-app.sh']);
    expect(repoPathOf(install as Service, '/kappie/install-app.sh')).toBe('provisioning/compose/install-app.sh');
    // ...and Grafana starts only when the install succeeded.
    expect(dependencyCondition(grafana as Service, 'grafana-app-install')).toBe('service_completed_successfully');
    expect(env.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS).toBeUndefined();
    expect(grafana?.environment?.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS).toBe(pluginJson.id);
  });

  it('installs the plugin of every provisioned data source type Grafana does not ship', () => {
    for (const [file, stack] of stacks) {
      const service = stack.services.grafana as Service;
      const types = provisioningFiles(service, 'datasources').flatMap(
        (source) => (parse(readText(source)) as DatasourceFile).datasources?.map((d) => d.type) ?? [],
      );
      const core = coreDatasourceTypes(grafanaVersion(service));
      const missing = types.filter((type) => !core.has(type) && !preinstalledPlugins(service).includes(type));
      expect({ file, missing }).toEqual({ file, missing: [] });
    }
    expect(preinstalledPlugins(withAzure.services.grafana as Service)).toContain('grafana-azureprometheus-datasource');
  });

  it('gives Grafana every environment variable its provisioning files use (Grafana expands them, empty if unset)', () => {
    for (const [file, stack] of stacks) {
      const service = stack.services.grafana as Service;
      const used = [
        ...new Set(
          [...provisioningFiles(service, 'datasources'), ...provisioningFiles(service, 'plugins')].flatMap((source) =>
            [
              ...readText(source)
                .replace(/^\s*#.*$/gm, '')
                .matchAll(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g),
            ].map((m) => m[1]),
          ),
        ),
      ];
      const unset = used.filter((variable) => !(variable && variable in (service.environment ?? {})));
      expect({ file, unset }).toEqual({ file, unset: [] });
    }
  });

  it('runs a Grafana that the app, the Azure plugin and its install all support, and says which', () => {
    const version =
      semver.coerce(
        withDefaults(grafana?.image ?? '')
          .split(':')
          .pop(),
      )?.version ?? '';
    expect(version).toBe('13.1.0');
    expect(semver.satisfies(version, pluginJson.dependencies.grafanaDependency)).toBe(true);
    expect(semver.satisfies(version, AZURE_PROMETHEUS_GRAFANA_DEPENDENCY)).toBe(true);
    expect(semver.gte(version, PREINSTALL_SYNC_SINCE)).toBe(true);
    const header = azureText.split('\nservices:')[0] ?? '';
    expect(header).toContain('Grafana 12.1 or\n# later');
    expect(header).toContain('Grafana 11.5 or later');
    expect(readText('provisioning/datasources/azure-managed-prometheus.yaml')).toMatch(/GF_PLUGINS_PREINSTALL_SYNC/);
  });

  it('points the BYO data source at the stack Prometheus, reachable on its published port', () => {
    expect(withDefaults(grafana?.environment?.PROMETHEUS_URL as string)).toBe('http://prometheus:9090');
    expect(prometheus?.ports?.map(withDefaults)).toContain('9090:9090');
  });
});
