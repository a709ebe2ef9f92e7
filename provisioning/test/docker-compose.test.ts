/**
 * docker-compose.yml (the local BYO stack) is valid against the Compose Specification schema (vendored in
 * schemas/vendor, see SOURCE.md) and wires the pieces together as the collector, Prometheus and Grafana need.
 * Not exercised: `docker compose up` itself (no Docker engine on this machine).
 */
import Ajv from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';

const REPO = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')) as ComposeFile;
const schema = JSON.parse(readFileSync(join(__dirname, '..', 'schemas', 'vendor', 'compose-spec.json'), 'utf8'));

interface Mount {
  type?: string;
  source: string;
  target: string;
  read_only?: boolean;
}
interface Service {
  build?: { context: string; dockerfile: string };
  image?: string;
  network_mode?: string;
  cap_add?: string[];
  environment?: Record<string, string>;
  volumes?: (string | Mount)[];
  extra_hosts?: string[];
  ports?: string[];
  command?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
}

/** Compose's `${VAR:-default}` with no VAR set: the default. */
function withDefaults(value: string): string {
  return value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
}

/** Short (`src:dst[:ro]`) and long volume syntax as one shape. */
function mounts(service: Service): Mount[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') return volume;
    const [source = '', target = '', mode] = volume.split(':');
    return { source, target, read_only: mode === 'ro' };
  });
}
function mountAt(service: Service, target: string): Mount | undefined {
  return mounts(service).find((m) => m.target === target);
}

/**
 * Files docker-compose.yml references that another piece of work (the Prometheus/Kubernetes issue) adds. Until they
 * are in this checkout their existence is reported, not asserted; once they exist every check below applies.
 */
const WRITTEN_ELSEWHERE = new Set(['collector/Dockerfile', 'deploy/prometheus/rules']);

function expectRepoPath(relative: string): void {
  const normalised = posix.normalize(relative).replace(/^\.\//, '').replace(/\/$/, '');
  if (existsSync(join(REPO, normalised))) return;
  const pending = [...WRITTEN_ELSEWHERE].some((p) => normalised === p || normalised.startsWith(`${p}/`));
  if (pending) {
    // eslint-disable-next-line no-console
    console.warn(`docker-compose.yml references ${normalised}, not in this checkout yet (written by another issue)`);
    return;
  }
  expect(`${normalised} exists`).toBe(`${normalised} is missing`);
}

const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true });
const validateCompose = ajv.compile(schema);
const services = compose.services;
const [kappie, prometheus, grafana] = [services.kappie, services.prometheus, services.grafana] as Service[];

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    expect(validateCompose(compose) ? '' : ajv.errorsText(validateCompose.errors)).toBe('');
  });

  it('the schema rejects what Compose rejects', () => {
    expect(validateCompose({ services: { x: { image: 'a', volumes: [{ source: '/a' }] } } })).toBe(false);
    expect(validateCompose({ services: { x: { image: 'a', network_mod: 'host' } } })).toBe(false);
    expect(validateCompose({ servics: {} })).toBe(false);
  });

  it('runs the collector, Prometheus and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(['grafana', 'kappie', 'prometheus']);
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
    const scrape = parse(readFileSync(join(REPO, config?.source as string), 'utf8')) as {
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

  it('gives Grafana the unsigned app allowed by id, the provisioning and the dashboards where the provider looks', () => {
    const env = grafana?.environment ?? {};
    const app = parse(readFileSync(join(REPO, 'provisioning', 'plugins', 'kappie-app.yaml'), 'utf8')) as {
      apps: { type: string }[];
    };
    const appId = app.apps[0]?.type as string;
    expect(env.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS).toBe(appId);
    expect(mountAt(grafana as Service, `/var/lib/grafana/plugins/${appId}`)?.source).toBe('./grafana-plugin/dist');

    expect(withDefaults(env.PROMETHEUS_URL as string)).toBe('http://prometheus:9090');
    expect(prometheus?.ports?.map(withDefaults)).toContain('9090:9090');

    const provider = parse(readFileSync(join(REPO, 'provisioning', 'dashboards', 'kappie.yaml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    expect(mountAt(grafana as Service, provider.providers[0]?.options.path as string)?.source).toBe(
      './dashboards/generated',
    );
    for (const kind of ['dashboards', 'plugins']) {
      expect(mountAt(grafana as Service, `/etc/grafana/provisioning/${kind}`)?.source).toBe(`./provisioning/${kind}`);
    }
    // Only the BYO data source: the Azure one needs the Azure plugin and Azure credentials.
    expect(mountAt(grafana as Service, '/etc/grafana/provisioning/datasources/prometheus.yaml')?.source).toBe(
      './provisioning/datasources/prometheus.yaml',
    );
  });

  it('mounts only repository paths that exist (grafana-plugin/dist is a build output)', () => {
    for (const service of Object.values(services)) {
      for (const mount of mounts(service)) {
        if (!mount.source.startsWith('./') || mount.source === './grafana-plugin/dist') continue;
        expectRepoPath(mount.source);
      }
    }
  });
});
