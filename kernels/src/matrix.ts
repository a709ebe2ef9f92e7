/**
 * Which kernels the VM suite boots: Debian's cloud kernels for amd64 that apt can fetch here, the newest package of
 * each kernel series (6.1, 6.12, ...), so that kernels with different kfree_skb reason tables and kprobe
 * capabilities are exercised. Pure: takes what `apt-cache search` printed.
 */

/** One kernel of the matrix. */
export interface MatrixKernel {
  /** Debian package, e.g. `linux-image-6.1.0-57-cloud-amd64-unsigned`. */
  readonly packageName: string;
  /** `uname -r` of the kernel in it, e.g. `6.1.0-57-cloud-amd64`. */
  readonly release: string;
  /** Kernel series, e.g. `6.1`. */
  readonly series: string;
}

/** Unsigned cloud images: the same kernel as the signed package, without the shim dependency chain. */
export const KERNEL_PACKAGE_PATTERN = /^linux-image-((\d+)\.(\d+)[^\s]*)-cloud-amd64-unsigned$/;

/** The apt-cache search pattern matching what KERNEL_PACKAGE_PATTERN accepts. */
export const APT_SEARCH_REGEX = '^linux-image-.*-cloud-amd64-unsigned$';

/** Numeric parts of a version in a package name, for ordering (`6.12.117+deb12` -> [6, 12, 117, 12]). */
function versionParts(version: string): number[] {
  return (version.match(/\d+/g) ?? []).map(Number);
}

function compareVersions(a: string, b: string): number {
  const [pa, pb] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const difference = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * The matrix from `apt-cache search --names-only` output (`NAME - description` lines): the newest package of
 * every kernel series, oldest series first. Lines that are not kernel packages are ignored.
 */
export function chooseKernels(aptCacheOutput: string): MatrixKernel[] {
  const newest = new Map<string, { version: string; packageName: string }>();
  for (const line of aptCacheOutput.split('\n')) {
    const packageName = line.split(' - ')[0]!.trim();
    const match = KERNEL_PACKAGE_PATTERN.exec(packageName);
    if (!match) continue;
    const [, version, major, minor] = match;
    const series = `${major}.${minor}`;
    const known = newest.get(series);
    if (!known || compareVersions(version!, known.version) > 0) newest.set(series, { version: version!, packageName });
  }
  return [...newest]
    .sort(([a], [b]) => compareVersions(a, b))
    .map(([series, { version, packageName }]) => ({ packageName, release: `${version}-cloud-amd64`, series }));
}

/** A matrix named on the command line (`--kernels PKG,PKG`): each must be a cloud kernel package. */
export function namedKernels(packageNames: readonly string[]): MatrixKernel[] {
  return packageNames.map((packageName) => {
    const match = KERNEL_PACKAGE_PATTERN.exec(packageName);
    if (!match) throw new Error(`${packageName} is not a linux-image-<version>-cloud-amd64-unsigned package`);
    return { packageName, release: `${match[1]}-cloud-amd64`, series: `${match[2]}.${match[3]}` };
  });
}
