/**
 * Kernel packages fetched with apt and unpacked once, kept in a cache directory outside the repository
 * (KAPPIE_KERNEL_CACHE, default /var/cache/kappie/kernels) so repeat runs start at once:
 *
 *   <cache>/debs/<package>_<version>_amd64.deb     what `apt-get download` fetched (removed once unpacked)
 *   <cache>/unpacked/<package>/boot/vmlinuz-*      `dpkg-deb -x`, plus modules.dep written by depmod
 *
 * Unpacking goes to a temporary sibling that is renamed into place when complete, so an interrupted run never
 * leaves a half-unpacked kernel that looks cached.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KERNEL_PACKAGE_PATTERN, type MatrixKernel } from './matrix';

export const DEFAULT_CACHE = '/var/cache/kappie/kernels';

export interface UnpackedKernel {
  readonly kernel: MatrixKernel;
  /** Root of the unpacked package. */
  readonly root: string;
  readonly vmlinuz: string;
  readonly modulesDir: string;
}

function run(command: string, args: readonly string[], cwd?: string): { ok: boolean; output: string } {
  const result = spawnSync(command, args as string[], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

export function cacheDirectory(): string {
  return process.env.KAPPIE_KERNEL_CACHE ?? DEFAULT_CACHE;
}

/** The kernel, downloaded and unpacked if the cache does not have it yet; throws with apt's or dpkg's words. */
export function ensureKernel(kernel: MatrixKernel, cache: string, log: (line: string) => void): UnpackedKernel {
  const unpacked = path.join(cache, 'unpacked', kernel.packageName);
  const described = (root: string): UnpackedKernel => ({
    kernel,
    root,
    vmlinuz: path.join(root, 'boot', `vmlinuz-${kernel.release}`),
    modulesDir: path.join(root, 'lib', 'modules', kernel.release),
  });
  if (fs.existsSync(path.join(unpacked, 'lib', 'modules', kernel.release, 'modules.dep'))) return described(unpacked);

  const debs = path.join(cache, 'debs');
  fs.mkdirSync(debs, { recursive: true });
  // apt drops privileges to _apt for downloads: let it write here.
  fs.chmodSync(debs, 0o777);
  const debFor = () => fs.readdirSync(debs).find((f) => f.startsWith(`${kernel.packageName}_`) && f.endsWith('.deb'));
  if (!debFor()) {
    log(`fetching ${kernel.packageName} with apt-get download`);
    const download = run('apt-get', ['download', '-q', kernel.packageName], debs);
    if (!download.ok) throw new Error(`apt-get download ${kernel.packageName} failed: ${download.output}`);
  }
  const deb = debFor();
  if (!deb) throw new Error(`apt-get download ${kernel.packageName} left no .deb in ${debs}`);

  const partial = `${unpacked}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  try {
    log(`unpacking ${deb}`);
    const extract = run('dpkg-deb', ['-x', path.join(debs, deb), partial]);
    if (!extract.ok) throw new Error(`dpkg-deb -x ${deb} failed: ${extract.output}`);
    // The package leaves modules.dep to the install step: depmod writes it into the unpacked tree.
    const depmod = run('depmod', ['-b', partial, kernel.release]);
    if (!depmod.ok) throw new Error(`depmod for ${kernel.release} failed: ${depmod.output}`);
    fs.rmSync(unpacked, { recursive: true, force: true });
    fs.renameSync(partial, unpacked);
    // The unpacked tree is what later runs use; the package itself can go.
    fs.rmSync(path.join(debs, deb), { force: true });
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
  return described(unpacked);
}

/**
 * Removes cached kernels that a newer package of the same series replaced (Debian bumps the ABI number with each
 * security update), with their modules archives, so the cache holds one kernel per series.
 */
export function pruneReplacedKernels(
  cache: string,
  matrix: readonly MatrixKernel[],
  log: (line: string) => void,
): void {
  const current = new Set(matrix.map((k) => k.packageName));
  const series = new Set(matrix.map((k) => k.series));
  const unpacked = path.join(cache, 'unpacked');
  if (!fs.existsSync(unpacked)) return;
  for (const name of fs.readdirSync(unpacked)) {
    const match = KERNEL_PACKAGE_PATTERN.exec(name);
    if (!match || current.has(name) || !series.has(`${match[2]}.${match[3]}`)) continue;
    log(
      `removing ${name} from the cache: ${matrix.find((k) => k.series === `${match[2]}.${match[3]}`)?.packageName} replaces it`,
    );
    fs.rmSync(path.join(unpacked, name), { recursive: true, force: true });
    const initramfs = path.join(cache, 'initramfs');
    for (const archive of fs.existsSync(initramfs) ? fs.readdirSync(initramfs) : []) {
      if (archive.endsWith(`-${name}.cpio`)) fs.rmSync(path.join(initramfs, archive), { force: true });
    }
  }
}
