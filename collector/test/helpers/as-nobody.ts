import { spawn, type ChildProcess } from 'node:child_process';
import { COLLECTOR_CLI } from './netns';
import { MOUNT_TRACEFS } from './tracefs-instances';

/** The uid and gid of Debian's `nobody`/`nogroup`, as the collector's messages name them. */
export const NOBODY_ID = 65534;

/**
 * Starts the real collector CLI with `args` as uid/gid NOBODY_ID (setpriv, no supplementary groups) in a private mount
 * namespace where tracefs is mounted (root-only, as on a node), stdout and stderr piped. Requires root to start.
 */
export function spawnCollectorAsNobody(args: readonly string[]): ChildProcess {
  return spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      `${MOUNT_TRACEFS}; ` + `exec setpriv --reuid=${NOBODY_ID} --regid=${NOBODY_ID} --clear-groups "$0" "$@"`,
      process.execPath,
      COLLECTOR_CLI,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
