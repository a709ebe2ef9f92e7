/**
 * Checks that the path options point at what they name, before the collector starts: a typo in --proc-path must be a
 * one-line error with exit code 2, not a collector that serves and reports most sources down.
 *
 * --tracefs-path is not checked here: tracefs missing is a normal state of a node (the drop source then says why it is
 * down and the kernel counters take over), and the collector mounts it there when it may.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Platform } from './catalog';
import type { CollectorConfig, OptionOrigins } from './config';
import { ConfigError } from './errors';

/** A file every procfs root (`/proc`, `/proc/<pid>`, a container's `/host/proc`) has: the network namespace's devices. */
const PROCFS_MARK = 'net/dev';
/** A directory every sysfs root has: one entry per network interface. */
const SYSFS_MARK = 'class/net';

function kindOf(file: string): 'directory' | 'other' | undefined {
  try {
    return fs.statSync(file).isDirectory() ? 'directory' : 'other';
  } catch {
    return undefined;
  }
}

function checkRoot(root: string, option: string, mark: string, what: string): void {
  const kind = kindOf(root);
  if (kind === undefined) throw new ConfigError(option, `"${root}" does not exist (it should be ${what})`);
  if (kind !== 'directory') throw new ConfigError(option, `"${root}" is not a directory (it should be ${what})`);
  if (kindOf(path.join(root, mark)) === undefined) {
    throw new ConfigError(option, `"${root}" is not ${what}: it has no ${mark}`);
  }
}

/**
 * Throws a ConfigError, naming the flag or variable the user set, when --proc-path is not a procfs root or --sys-path
 * not a sysfs root. Linux only: Windows reads neither. (The web configuration file is checked when it is loaded.)
 */
export function checkPathOptions(
  config: Pick<CollectorConfig, 'procPath' | 'sysPath'>,
  origins: Pick<OptionOrigins, 'procPath' | 'sysPath'>,
  platform: Platform,
): void {
  if (platform !== 'linux') return;
  checkRoot(config.procPath, origins.procPath, PROCFS_MARK, 'a procfs mount such as /proc or /host/proc');
  checkRoot(config.sysPath, origins.sysPath, SYSFS_MARK, 'a sysfs mount such as /sys or /host/sys');
}
