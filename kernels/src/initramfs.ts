/**
 * The guest's root file system: an initramfs of three concatenated cpio (newc) archives, which the kernel unpacks
 * in order into one tree.
 *
 *  1. base (cached, keyed by the host binaries it holds): busybox-static, the host's node, ip, nft and setpriv with
 *     the shared libraries ldd names.
 *  2. modules (cached per kernel): the modules of GUEST_MODULES and their dependencies from modules.dep,
 *     decompressed (busybox insmod takes plain .ko), with /etc/kappie/modules listing them in load order.
 *  3. app (per run): /init, the built collector (collector/dist) and the VM suite (kernels/dist) in the repository's
 *     layout, the npm packages they load at run time (`npm ls --omit=dev --parseable`), and /etc/kappie/vm.json.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { UnpackedKernel } from './kernel-cache';
import { GUEST_MODULES, planModules, type ModulePlan } from './modules';
import { commandPath } from './prerequisites';
import { parseLdd } from './shared-libraries';

/** Bump when the base layout changes, so cached archives are rebuilt. */
const BASE_LAYOUT = 2;
const MODULES_LAYOUT = 1;

/** Host binaries the guest runs, by where they go in the guest. */
function baseBinaries(): Record<string, string> {
  const found = (command: string) => {
    const where = commandPath(command);
    if (!where) throw new Error(`${command} is not installed`);
    return fs.realpathSync(where);
  };
  return {
    '/bin/busybox': found('busybox'),
    '/usr/bin/node': process.execPath,
    '/usr/sbin/ip': found('ip'),
    '/usr/sbin/nft': found('nft'),
    '/usr/bin/setpriv': found('setpriv'),
  };
}

function sharedLibraries(binary: string): string[] {
  const result = spawnSync('ldd', [binary], { encoding: 'utf8' });
  // ldd exits 1 for static binaries ("not a dynamic executable"): parseLdd returns nothing for them.
  return parseLdd(`${result.stdout ?? ''}${result.stderr ?? ''}`, binary);
}

function copyInto(staging: string, guestPath: string, hostPath: string, mode?: number): void {
  const target = path.join(staging, guestPath);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(hostPath, target);
  if (mode !== undefined) fs.chmodSync(target, mode);
}

/** Writes `staging` as a newc cpio archive owned by root. */
export function writeCpio(staging: string, archive: string): void {
  const result = spawnSync(
    'sh',
    ['-c', `find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet > "${archive}"`],
    { cwd: staging, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`cpio failed: ${result.stderr}`);
}

function fingerprint(files: readonly string[], extra: string): string {
  const hash = createHash('sha256').update(extra);
  for (const file of [...files].sort()) {
    const stat = fs.statSync(file);
    hash.update(`${file}\0${stat.size}\0${stat.mtimeMs}\0`);
  }
  return hash.digest('hex').slice(0, 16);
}

/** The base archive, built when the cache has none for these exact binaries. */
export function baseArchive(cache: string, scratch: string, log: (line: string) => void): string {
  const binaries = baseBinaries();
  const libraries = [...new Set(Object.values(binaries).flatMap(sharedLibraries))];
  const key = fingerprint([...Object.values(binaries), ...libraries], `base ${BASE_LAYOUT}`);
  const archive = path.join(cache, 'initramfs', `base-${key}.cpio`);
  removeOtherBaseArchives(archive);
  if (fs.existsSync(archive)) return archive;
  log('building the base initramfs (busybox, node, ip, nft, setpriv and their libraries)');
  const staging = fs.mkdtempSync(path.join(scratch, 'base-'));
  for (const dir of ['proc', 'sys', 'dev', 'tmp', 'run', 'etc/kappie', 'root']) {
    fs.mkdirSync(path.join(staging, dir), { recursive: true });
  }
  for (const [guestPath, hostPath] of Object.entries(binaries)) copyInto(staging, guestPath, hostPath, 0o755);
  // /init is a shell script: the shell must exist before it runs `busybox --install`.
  fs.symlinkSync('busybox', path.join(staging, 'bin', 'sh'));
  for (const library of libraries) copyInto(staging, library, library, 0o755);
  fs.writeFileSync(path.join(staging, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(staging, 'etc', 'group'), 'root:x:0:\n');
  storeArchive(staging, archive);
  fs.rmSync(staging, { recursive: true, force: true });
  return archive;
}

/** Base archives of other binaries (an older node, a changed layout) are never used again. */
function removeOtherBaseArchives(archive: string): void {
  const dir = path.dirname(archive);
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (/^base-[0-9a-f]+\.cpio$/.test(name) && name !== path.basename(archive)) fs.rmSync(path.join(dir, name));
  }
}

/** Writes the archive next to its final name, then renames it: a cut run never leaves a partial cached file. */
function storeArchive(staging: string, archive: string): void {
  fs.mkdirSync(path.dirname(archive), { recursive: true });
  const partial = `${archive}.partial-${process.pid}`;
  try {
    writeCpio(staging, partial);
    fs.renameSync(partial, archive);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

/** The modules archive of one kernel, and what was planned for it. */
export function modulesArchive(
  unpacked: UnpackedKernel,
  cache: string,
  scratch: string,
): { archive: string; plan: ModulePlan } {
  const read = (name: string) => {
    const file = path.join(unpacked.modulesDir, name);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  };
  const plan = planModules(read('modules.dep'), read('modules.builtin'), GUEST_MODULES);
  // Named after what it holds too: a module added to GUEST_MODULES makes a new archive, not a stale cache hit.
  const contents = createHash('sha256').update(plan.load.join('\n')).digest('hex').slice(0, 12);
  const archive = path.join(
    cache,
    'initramfs',
    `modules-${MODULES_LAYOUT}-${contents}-${unpacked.kernel.packageName}.cpio`,
  );
  if (fs.existsSync(archive)) return { archive, plan };
  const staging = fs.mkdtempSync(path.join(scratch, 'modules-'));
  const guestDir = path.join('lib', 'modules', unpacked.kernel.release);
  const loaded: string[] = [];
  for (const modulePath of plan.load) {
    const plain = modulePath.replace(/\.(xz|zst|gz)$/, '');
    const target = path.join(staging, guestDir, plain);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const source = path.join(unpacked.modulesDir, modulePath);
    if (modulePath.endsWith('.xz')) {
      const result = spawnSync('xz', ['-dc', source], { maxBuffer: 256 << 20 });
      if (result.status !== 0) throw new Error(`xz -dc ${source} failed: ${String(result.stderr)}`);
      fs.writeFileSync(target, result.stdout);
    } else if (/\.(zst|gz)$/.test(modulePath)) {
      throw new Error(`${modulePath}: only plain and xz-compressed modules are supported`);
    } else {
      fs.copyFileSync(source, target);
    }
    loaded.push(plain);
  }
  fs.mkdirSync(path.join(staging, 'etc', 'kappie'), { recursive: true });
  fs.writeFileSync(path.join(staging, 'etc', 'kappie', 'modules'), loaded.map((m) => `${m}\n`).join(''));
  storeArchive(staging, archive);
  fs.rmSync(staging, { recursive: true, force: true });
  // The same kernel's archives of other module lists are stale now.
  for (const other of fs.readdirSync(path.dirname(archive))) {
    if (other.endsWith(`-${unpacked.kernel.packageName}.cpio`) && other !== path.basename(archive)) {
      fs.rmSync(path.join(path.dirname(archive), other), { force: true });
    }
  }
  return { archive, plan };
}

/** Packages a workspace loads at run time, as paths in the repository (npm's own resolution). */
function runtimePackages(repoRoot: string, workspace: string): string[] {
  const result = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable', '-w', workspace], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const paths = (result.stdout ?? '')
    .split('\n')
    .filter((p) => p.startsWith(repoRoot) && p.includes(`${path.sep}node_modules${path.sep}`));
  if (paths.length === 0) throw new Error(`npm ls found no packages for ${workspace}: ${result.stderr}`);
  return paths;
}

/** Configuration the guest suite reads from /etc/kappie/vm.json. */
export interface VmConfig {
  /** What the Linux DaemonSet grants (deploy/kubernetes), as Kubernetes spells capabilities. */
  readonly capabilities: { readonly add: readonly string[]; readonly drop: readonly string[] };
  /** Send the kernel files worth keeping as fixtures (tracefs README, kfree_skb format, hist tables) to the host. */
  readonly record: boolean;
}

/** The per-run archive: /init, collector and suite builds, their npm packages, vm.json. */
export function appArchive(repoRoot: string, scratch: string, config: VmConfig): string {
  const staging = fs.mkdtempSync(path.join(scratch, 'app-'));
  const app = path.join(staging, 'opt', 'kappie');
  copyInto(staging, 'init', path.join(repoRoot, 'kernels', 'guest', 'init'), 0o755);
  for (const workspace of ['collector', 'kernels']) {
    copyInto(app, path.join(workspace, 'package.json'), path.join(repoRoot, workspace, 'package.json'));
    fs.cpSync(path.join(repoRoot, workspace, 'dist'), path.join(app, workspace, 'dist'), {
      recursive: true,
      filter: (source) => !source.endsWith('.map') && !source.endsWith('.d.ts'),
    });
  }
  const nativeLibraries: string[] = [];
  for (const packagePath of runtimePackages(repoRoot, 'kernels')) {
    const relative = path.relative(repoRoot, packagePath);
    const target = path.join(app, relative);
    if (fs.existsSync(target)) continue;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (fs.lstatSync(packagePath).isSymbolicLink()) {
      // A workspace link (node_modules/@kappie/collector -> ../../collector): the same link in the guest.
      fs.symlinkSync(fs.readlinkSync(packagePath), target);
      continue;
    }
    fs.cpSync(packagePath, target, { recursive: true });
    for (const file of fs.readdirSync(target, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.node')) continue;
      try {
        nativeLibraries.push(...sharedLibraries(path.join(packagePath, file)));
      } catch {
        // A build for another libc (koffi ships musl builds too): it cannot load here, nor in the guest.
      }
    }
  }
  for (const library of new Set(nativeLibraries)) copyInto(staging, library, library, 0o755);
  fs.mkdirSync(path.join(staging, 'etc', 'kappie'), { recursive: true });
  fs.writeFileSync(path.join(staging, 'etc', 'kappie', 'vm.json'), `${JSON.stringify(config, null, 2)}\n`);
  const archive = path.join(scratch, 'app.cpio');
  writeCpio(staging, archive);
  fs.rmSync(staging, { recursive: true, force: true });
  return archive;
}

/** The initrd qemu loads: the archives one after the other. */
export function concatenate(archives: readonly string[], initrd: string): void {
  fs.writeFileSync(initrd, '');
  for (const archive of archives) fs.appendFileSync(initrd, fs.readFileSync(archive));
}
