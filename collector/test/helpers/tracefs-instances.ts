import type { Namespace } from './netns';

/**
 * The tracefs instance names (directories under /sys/kernel/tracing/instances) as a process in `ns` sees them: the
 * shell runs in a fresh mount namespace, where tracefs is mounted first when it is not (CI boots without it mounted).
 */
export function tracefsInstances(ns: Namespace): string[] {
  return ns
    .exec(
      'sh',
      '-c',
      'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing; ls /sys/kernel/tracing/instances',
    )
    .split('\n')
    .filter((name) => name !== '');
}
