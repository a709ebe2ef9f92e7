/**
 * Finding tracefs, and mounting it where it is not mounted (needs CAP_SYS_ADMIN). The pure part reads
 * `/proc/self/mountinfo`; the rest runs `mount -t tracefs` and gives a `Tracefs` rooted at the mount.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SourceUnavailableError } from '../../errors';
import { createTracefs, type Tracefs } from './tracefs';

/** The file system type mounted at `dir` according to a mountinfo text (pure), or undefined. */
export function mountTypeAt(mountinfo: string, dir: string): string | undefined {
  let type: string | undefined;
  for (const line of mountinfo.split('\n')) {
    // "36 35 98:0 / /mnt rw,noatime master:1 - tracefs nodev rw": mount point is field 5, type follows " - ".
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (separator < 0 || fields.length < 5) continue;
    const mountPoint = fields[4]!.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    // Later lines override earlier ones: the last mount on a path is the visible one.
    if (mountPoint === dir) type = fields[separator + 1];
  }
  return type;
}

export interface TracefsMount {
  readonly tracefs: Tracefs;
  /** True when this process mounted it (and unmounts it at stop). */
  readonly mountedByUs: boolean;
  /** Unmounts what this process mounted; nothing otherwise. */
  unmount(): void;
}

/** The mounts of the collector's own mount namespace, where --tracefs-path is looked up and mounted. */
export const OWN_MOUNTINFO = '/proc/self/mountinfo';

/**
 * tracefs at `root`, mounting it there when it is not mounted. Whether it is mounted is read from `mountinfo` (the
 * collector's own mounts: `root` is a path of the collector's mount namespace whatever --proc-path shows, and
 * `<proc-path>/self` names no process under `--proc-path /proc/<pid>`); where that cannot be read, from whether
 * `root/instances` exists. Throws SourceUnavailableError when `root` does not exist or the mount is refused (no
 * CAP_SYS_ADMIN), saying what to do.
 */
export function mountTracefs(root: string, mountinfo: string = OWN_MOUNTINFO): TracefsMount {
  const resolved = path.resolve(root);
  const tracefs = createTracefs(resolved);
  let mountedType: string | undefined;
  try {
    mountedType = mountTypeAt(fs.readFileSync(mountinfo, 'latin1'), resolved);
  } catch {
    mountedType = undefined; // no /proc of our own: the instances directory says whether tracefs is there
  }
  if (mountedType === 'tracefs' || tracefs.exists('instances')) {
    return { tracefs, mountedByUs: false, unmount: () => undefined };
  }
  if (!fs.existsSync(resolved)) {
    throw new SourceUnavailableError(`tracefs path ${resolved} does not exist (set --tracefs-path)`);
  }
  const result = spawnSync('mount', ['-t', 'tracefs', 'nodev', resolved], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new SourceUnavailableError(
      `tracefs is not mounted at ${resolved} and mounting it failed (${(result.stderr || result.error?.message || '').trim()}): ` +
        'run as root or with CAP_SYS_ADMIN, or mount tracefs there',
    );
  }
  return {
    tracefs,
    mountedByUs: true,
    unmount() {
      spawnSync('umount', [resolved], { stdio: 'ignore' });
    },
  };
}
