/**
 * What the VM suite needs on the host, and why it cannot run when something is missing. As root with apt, missing
 * Debian packages are installed (qemu-system-x86, busybox-static, cpio, kmod for depmod, xz-utils); otherwise the
 * suite is skipped with the reason.
 */
import { spawnSync } from 'node:child_process';

/** Host commands, and the Debian package that provides each. */
export const HOST_TOOLS: Readonly<Record<string, string>> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  busybox: 'busybox-static',
  cpio: 'cpio',
  depmod: 'kmod',
  xz: 'xz-utils',
  'dpkg-deb': 'dpkg',
  'apt-get': 'apt',
  ip: 'iproute2',
  nft: 'nftables',
  setpriv: 'util-linux',
  ldd: 'libc-bin',
};

export function commandPath(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
  });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function missingPackages(): string[] {
  return [
    ...new Set(
      Object.entries(HOST_TOOLS)
        .filter(([command]) => commandPath(command) === undefined)
        .map(([, pkg]) => pkg),
    ),
  ];
}

/**
 * Undefined when the suite can run, else why not. Installs missing packages when it may (root and apt-get), and
 * says so on `log`.
 */
export function ensurePrerequisites(log: (line: string) => void): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `not Linux on x86_64 (${process.platform}/${process.arch})`;
  if (process.getuid?.() !== 0)
    return 'not root (namespaces, nftables and tracefs in the guest are tested as root; depmod and apt need it too)';
  let missing = missingPackages();
  if (missing.length > 0 && commandPath('apt-get') !== undefined) {
    log(`installing ${missing.join(', ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    const install =
      update.status === 0 &&
      spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
    if (!install || install.status !== 0) return `apt-get could not install ${missing.join(', ')}`;
    missing = missingPackages();
  }
  if (missing.length > 0) return `missing packages: ${missing.join(', ')} (install them, or run as root with apt)`;
  return undefined;
}
