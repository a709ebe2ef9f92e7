/**
 * The Linux DaemonSet's capability set is enough, checked on this kernel: processes run as uid 0 with exactly the
 * capabilities the manifest grants (setpriv bounds them as the container runtime would, with no_new_privs for
 * allowPrivilegeEscalation: false) and do what the sources do in the kernel, and the real collector run that way has
 * every source up that is up with full root. Without NET_ADMIN, nftables is refused (why the manifest adds it).
 *
 * Not exercised here: the container runtime itself (seccomp and AppArmor profiles, mount namespaces).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderKustomization } from '../helpers/kustomize';
import { DEPLOY_ROOT } from '../helpers/paths';
import { COLLECTOR_CLI, ensureCollectorBuilt, isolationArgs } from '../helpers/prometheus-stack';

const TRACEFS = '/sys/kernel/tracing';

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (the DaemonSet runs as uid 0)';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv (util-linux) is missing';
  if (spawnSync('nft', ['--version']).status !== 0) return 'nft is missing';
  return undefined;
}

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Any = any;

function manifestCapabilities(): { add: string[]; drop: string[] } {
  const objects = renderKustomization(path.join(DEPLOY_ROOT, 'kubernetes', 'overlays', 'byo'));
  const daemonSet = objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'kappie-collector') as Any;
  return daemonSet.spec.template.spec.containers[0].securityContext.capabilities;
}

/** Runs a command as uid 0 holding only `capabilities` (names as Kubernetes writes them, e.g. NET_ADMIN). */
function runWithCapabilities(capabilities: readonly string[], command: string, args: readonly string[]) {
  const bounding = ['-all', ...capabilities.map((c) => `+${c.toLowerCase()}`)].join(',');
  return spawnSync(
    'setpriv',
    ['--no-new-privs', '--inh-caps=-all', `--bounding-set=${bounding}`, '--', command, ...args],
    { encoding: 'utf8', timeout: 60_000 },
  );
}

const why = unavailable();
if (why) {
  // eslint-disable-next-line no-console
  console.warn(`skipping the capability tests: ${why}`);
}

(why ? describe.skip : describe)('Linux DaemonSet capabilities on this kernel', () => {
  const capabilities = manifestCapabilities();
  const suffix = randomBytes(4).toString('hex');
  const table = `ktcap${suffix}`;
  const instance = `ktcap${suffix}`;

  afterAll(() => {
    spawnSync('nft', ['delete', 'table', 'inet', table], { stdio: 'ignore' });
    if (fs.existsSync(path.join(TRACEFS, 'instances', instance))) {
      fs.writeFileSync(path.join(TRACEFS, 'instances', instance, 'events', 'skb', 'kfree_skb', 'enable'), '0');
      fs.rmdirSync(path.join(TRACEFS, 'instances', instance));
    }
  });

  it('the manifest drops every capability and adds only NET_ADMIN', () => {
    expect(capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN'] });
  });

  it('creates, changes and removes an nftables table with those capabilities', () => {
    const script = `add table inet ${table}\nadd chain inet ${table} c { type filter hook prerouting priority 0; }\nadd counter inet ${table} k\ndelete table inet ${table}\n`;
    const scriptFile = path.join(fs.mkdtempSync('/tmp/kappie-cap-'), 'ruleset.nft');
    fs.writeFileSync(scriptFile, script);
    try {
      const result = runWithCapabilities(capabilities.add, 'nft', ['-f', scriptFile]);
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      fs.rmSync(path.dirname(scriptFile), { recursive: true, force: true });
    }
  });

  it('without NET_ADMIN, nftables refuses (which is why the manifest adds it)', () => {
    const result = runWithCapabilities([], 'nft', ['list', 'tables']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/Operation not permitted/);
  });

  (fs.existsSync(path.join(TRACEFS, 'instances')) ? it : it.skip)(
    'creates a tracefs instance, enables skb:kfree_skb in it and removes it, with no capability at all (uid 0 owns tracefs)',
    () => {
      const dir = path.join(TRACEFS, 'instances', instance);
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
    },
  );

  it('the real collector has every source up with the manifest capabilities that it has up as full root', () => {
    ensureCollectorBuilt();
    const snapshot = (run: () => ReturnType<typeof spawnSync>) => {
      const result = run();
      if (result.status !== 0) throw new Error(`kappie snapshot failed: ${String(result.stderr)}`);
      const gathering = JSON.parse(String(result.stdout)) as { sources: { name: string; up: boolean }[] };
      return Object.fromEntries(gathering.sources.map((s) => [s.name, s.up]));
    };
    const args = [COLLECTOR_CLI, 'snapshot', '--json', ...isolationArgs([])];
    const asRoot = snapshot(() => spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 }));
    const bounded = snapshot(() => runWithCapabilities(capabilities.add, process.execPath, args));
    expect(Object.keys(asRoot).length).toBeGreaterThan(0);
    expect(bounded).toEqual(asRoot);
  });
});
