// What the collector and the test suite need on this machine, installed when missing: Debian packages (as root) and
// the npm dependencies. Idempotent and quiet when everything is there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian packages the kernel, stack and bench tests use, by a command each provides. */
export const SYSTEM_PACKAGES = {
  prometheus: 'prometheus',
  promtool: 'prometheus',
  'prometheus-node-exporter': 'prometheus-node-exporter',
  nft: 'nftables',
  ip: 'iproute2',
  ss: 'iproute2',
  nstat: 'iproute2',
  iperf3: 'iperf3',
  ping: 'iputils-ping',
  curl: 'curl',
  ethtool: 'ethtool',
  // The BTF parser's kernel test compares with bpftool's reading of /sys/kernel/btf/vmlinux.
  bpftool: 'bpftool',
  // Certificates for the TLS tests of the web configuration file.
  openssl: 'openssl',
  // The shell of the compose stack's busybox install step (provisioning/test/install-app.test.ts).
  busybox: 'busybox',
};

function hasCommand(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function sh(command, args) {
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`);
}

export function ensureSystemPackages() {
  const missing = [
    ...new Set(
      Object.entries(SYSTEM_PACKAGES)
        .filter(
          ([command]) =>
            !hasCommand(command) && !existsSync(`/usr/sbin/${command}`) && !existsSync(`/usr/bin/${command}`),
        )
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !hasCommand('apt-get')) {
    console.log(
      `note: missing system packages (${missing.join(', ')}); the tests that need them will be skipped. Run as root to install.`,
    );
    return;
  }
  console.log(`installing system packages: ${missing.join(', ')}`);
  sh('apt-get', ['update', '-qq']);
  sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing]);
}

export function ensureNodeModules() {
  if (existsSync('node_modules/.package-lock.json')) return;
  console.log('installing npm dependencies (npm ci)');
  sh('npm', ['ci', '--no-audit', '--no-fund']);
}
