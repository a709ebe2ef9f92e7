/**
 * The Linux DaemonSet's capability set is exactly enough, checked on this kernel. Processes run as uid 0 with exactly
 * the capabilities the manifest grants (setpriv bounds them as the container runtime would, with no_new_privs for
 * allowPrivilegeEscalation: false), against a tracefs mounted for the test the way the DaemonSet mounts the node's:
 *   - every added capability has a probe doing the kernel operation the manifest's comment names for it, which works
 *     with the manifest's set and fails with that one capability removed (so none is superfluous);
 *   - the real collector (`kappie serve`) has every source up with the manifest's set, like as full root, and loses
 *     the source a capability is for when that capability is removed.
 *
 * The kallsyms probe stands for the 5.15 drop path (no `reason` field: drop locations named from /proc/kallsyms),
 * which this kernel (it has `reason`) does not run: the probe reads /proc/kallsyms with the collector's own parser.
 * Not exercised here: the container runtime itself (seccomp and AppArmor profiles, mount namespaces).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseKallsyms } from '../../../collector/src/kernel/kallsyms';
import { renderKustomization } from '../helpers/kustomize';
import { DEPLOY_ROOT } from '../helpers/paths';
import { COLLECTOR_CLI, collectorNodeFlags, ensureCollectorBuilt, isolationArgs } from '../helpers/prometheus-stack';

const DAEMONSET_FILE = path.join(DEPLOY_ROOT, 'kubernetes', 'base', 'daemonset-linux.yaml');

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Any = any;

function manifestCapabilities(): { add: string[]; drop: string[] } {
  const objects = renderKustomization(path.join(DEPLOY_ROOT, 'kubernetes', 'overlays', 'byo'));
  const daemonSet = objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'kappie-collector') as Any;
  return daemonSet.spec.template.spec.containers[0].securityContext.capabilities;
}

/** Runs a command as uid 0 holding only `capabilities` (names as Kubernetes writes them, e.g. NET_ADMIN). */
function runWithCapabilities(capabilities: readonly string[], command: string, args: readonly string[]) {
  return spawnSync('setpriv', setprivArgs(capabilities, command, args), {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 256 << 20,
  });
}

function setprivArgs(capabilities: readonly string[], command: string, args: readonly string[]): string[] {
  const bounding = ['-all', ...capabilities.map((c) => `+${c.toLowerCase()}`)].join(',');
  return ['--no-new-privs', '--inh-caps=-all', `--bounding-set=${bounding}`, '--', command, ...args];
}

function readSysctl(name: string): number | undefined {
  try {
    return Number(fs.readFileSync(`/proc/sys/kernel/${name}`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** What a capability is for: the operation it allows, and whether this host's settings make that observable. */
interface CapabilityProbe {
  /** Words the manifest's comment for this capability must contain: the thing the collector loses without it. */
  readonly names: string;
  /** True when the operation succeeds with `capabilities`. */
  works(capabilities: readonly string[]): boolean;
  /** Why this host cannot show the capability is needed (the operation works without it here), or undefined. */
  readonly notObservableHere?: string;
  /** The collector source that is down without the capability on this kernel, if any. */
  readonly source?: string;
}

function nftWorks(capabilities: readonly string[], table: string): boolean {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-cap-'));
  try {
    const script = path.join(dir, 'ruleset.nft');
    fs.writeFileSync(
      script,
      `add table inet ${table}\nadd chain inet ${table} c { type filter hook prerouting priority 0; }\n` +
        `add counter inet ${table} k\ndelete table inet ${table}\n`,
    );
    const result = runWithCapabilities(capabilities, 'nft', ['-f', script]);
    if (result.status !== 0 && !/Operation not permitted/.test(result.stderr)) {
      throw new Error(`nft failed for another reason than permissions: ${result.stderr}`);
    }
    return result.status === 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** /proc/kallsyms read with `capabilities` names a drop function, parsed as the drop source parses it. */
function kallsymsWorks(capabilities: readonly string[]): boolean {
  const result = runWithCapabilities(capabilities, 'cat', ['/proc/kallsyms']);
  if (result.status !== 0) throw new Error(`cat /proc/kallsyms failed: ${result.stderr}`);
  const symbols = parseKallsyms(result.stdout, '/proc/kallsyms');
  const range = symbols.rangeOf('tcp_v4_rcv');
  return symbols.size > 0 && range !== undefined && symbols.functionAt(range[0] + 1n) === 'tcp_v4_rcv';
}

function kallsymsNotObservable(): string | undefined {
  const kptrRestrict = readSysctl('kptr_restrict');
  const paranoid = readSysctl('perf_event_paranoid');
  if (kptrRestrict === 2) return 'kptr_restrict is 2: /proc/kallsyms shows no address even to CAP_SYSLOG';
  if (kptrRestrict === 0 && paranoid !== undefined && paranoid <= 1) {
    return `kptr_restrict 0 and perf_event_paranoid ${paranoid}: /proc/kallsyms shows addresses to everyone`;
  }
  return undefined;
}

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (the DaemonSet runs as uid 0)';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv (util-linux) is missing';
  if (spawnSync('nft', ['--version']).status !== 0) return 'nft is missing';
  return undefined;
}

interface Served {
  readonly sourcesUp: Record<string, boolean>;
  readonly output: string;
}

/** Runs `kappie serve` (optionally bounded to `capabilities`), reads kappie_source_up from /metrics, stops it. */
async function serveOnce(capabilities: readonly string[] | undefined, tracefsPath: string): Promise<Served> {
  const args = [
    ...collectorNodeFlags(),
    COLLECTOR_CLI,
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--tracefs-path',
    tracefsPath,
    ...isolationArgs([]),
  ];
  const child =
    capabilities === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('setpriv', setprivArgs(capabilities, process.execPath, args), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the collector did not start: ${output}`)), 60_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /serving \/metrics on port (\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`the collector exited (${code}): ${output}`)));
    });
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sourcesUp: Record<string, boolean> = {};
    for (const match of text.matchAll(/^kappie_source_up\{[^}]*source="([^"]+)"[^}]*\} (\S+)$/gm)) {
      sourcesUp[match[1]!] = match[2] === '1';
    }
    return { sourcesUp, output };
  } finally {
    // SIGTERM: the collector removes its tracefs instance and nftables table.
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

const why = unavailable();
if (why) {
  // eslint-disable-next-line no-console
  console.warn(`skipping the capability tests: ${why}`);
}

(why ? describe.skip : describe)('Linux DaemonSet capabilities on this kernel', () => {
  const capabilities = manifestCapabilities();
  const suffix = randomBytes(4).toString('hex');
  const probes: Record<string, CapabilityProbe> = {
    NET_ADMIN: { names: 'nftables', works: (caps) => nftWorks(caps, `ktcap${suffix}`), source: 'tcp_flags' },
    SYSLOG: { names: '/proc/kallsyms', works: kallsymsWorks, notObservableHere: kallsymsNotObservable() },
  };
  // A private tracefs mount, as the DaemonSet mounts the node's at /host/tracing (others' tests may unmount the
  // host's /sys/kernel/tracing while this runs).
  let tracefs: string;
  beforeAll(() => {
    tracefs = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-cap-tracefs-'));
    const mounted = spawnSync('mount', ['-t', 'tracefs', 'nodev', tracefs], { encoding: 'utf8' });
    if (mounted.status !== 0) throw new Error(`cannot mount tracefs for the test: ${mounted.stderr}`);
  });
  afterAll(() => {
    spawnSync('umount', [tracefs], { stdio: 'ignore' });
    fs.rmdirSync(tracefs);
  });

  it('the manifest drops every capability and adds only capabilities with a probe here', () => {
    expect(capabilities.drop).toEqual(['ALL']);
    expect([...capabilities.add].sort()).toEqual(Object.keys(probes).sort());
  });

  it('the manifest justifies each added capability in a comment naming what it is for', () => {
    const text = fs.readFileSync(DAEMONSET_FILE, 'utf8');
    for (const capability of capabilities.add) {
      const comment = new RegExp(`^\\s*# - ${capability}: (.*(?:\\n\\s*#   .*)*)`, 'm').exec(text)?.[1] ?? '';
      expect({ capability, names: comment.includes(probes[capability]!.names) }).toEqual({ capability, names: true });
    }
  });

  it('each probe works with exactly the manifest capabilities', () => {
    for (const [capability, probe] of Object.entries(probes)) {
      expect({ capability, works: probe.works(capabilities.add) }).toEqual({ capability, works: true });
    }
  });

  it('removing any one capability loses what it is for', () => {
    for (const capability of capabilities.add) {
      const probe = probes[capability]!;
      if (probe.notObservableHere) {
        // eslint-disable-next-line no-console
        console.warn(`${capability} is needed on AKS nodes but this host cannot show it: ${probe.notObservableHere}`);
        continue;
      }
      const without = capabilities.add.filter((c) => c !== capability);
      expect({ capability, works: probe.works(without) }).toEqual({ capability, works: false });
    }
  });

  it('creates a tracefs instance, enables skb:kfree_skb in it and removes it with no capability at all', () => {
    const dir = path.join(tracefs, 'instances', `ktcap${suffix}`);
    const script = [
      `mkdir ${dir}`,
      `echo 1 > ${dir}/events/skb/kfree_skb/enable`,
      `cat ${dir}/events/skb/kfree_skb/enable`,
      `echo 0 > ${dir}/events/skb/kfree_skb/enable`,
      `rmdir ${dir}`,
    ].join(' && ');
    const result = runWithCapabilities([], 'sh', ['-c', script]);
    expect({ status: result.status, stdout: result.stdout.trim(), stderr: result.stderr }).toEqual({
      status: 0,
      stdout: '1',
      stderr: '',
    });
  });

  it('the real collector has every source up with the manifest capabilities, and loses the one each is for', async () => {
    ensureCollectorBuilt();
    const asRoot = await serveOnce(undefined, tracefs);
    const bounded = await serveOnce(capabilities.add, tracefs);
    expect(Object.keys(asRoot.sourcesUp).length).toBeGreaterThan(0);
    expect(Object.values(asRoot.sourcesUp).every(Boolean) ? 'all up' : asRoot.output).toBe('all up');
    expect(bounded.sourcesUp).toEqual(asRoot.sourcesUp);
    for (const capability of capabilities.add) {
      const source = probes[capability]!.source;
      if (!source) continue;
      const without = await serveOnce(
        capabilities.add.filter((c) => c !== capability),
        tracefs,
      );
      expect(without.sourcesUp).toEqual({ ...asRoot.sourcesUp, [source]: false });
    }
  }, 180_000);
});
