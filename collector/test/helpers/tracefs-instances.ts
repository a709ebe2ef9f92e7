/**
 * tracefs instances as kernel tests see and remove them. Instances are global: every network namespace and every
 * collector on the host shares one list under /sys/kernel/tracing/instances, so a test's collector creates one under
 * a name of its own (netns.ts gives every collector run in a test namespace the namespace's name by default), and what
 * a failed run left is removed here.
 */
import type { Namespace } from './netns';

/** A shell prefix that mounts tracefs in the shell's mount namespace when it is not (CI boots without it mounted). */
export const MOUNT_TRACEFS = 'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing';

/** The tracefs instance names as a process in `ns` sees them (`ip netns exec` runs it in a fresh mount namespace). */
export function tracefsInstances(ns: Namespace): string[] {
  return ns
    .exec('sh', '-c', `${MOUNT_TRACEFS}; ls /sys/kernel/tracing/instances`)
    .split('\n')
    .filter((name) => name !== '');
}

/**
 * A shell script (for `sh -c`, inside a network namespace's `ip netns exec`) that removes each named instance still
 * there: its events disabled, every trigger of kfree_skb removed (a hist or stacktrace trigger keeps an instance
 * busy), then the directory, retried for up to 2 s while the process that held it open (just killed) exits. Always
 * exits 0: a name that is not there is not an error.
 */
export function removeTracefsInstancesScript(names: readonly string[]): string {
  const removals = names.map((name) => {
    const dir = `/sys/kernel/tracing/instances/${name}`;
    const trigger = `${dir}/events/skb/kfree_skb/trigger`;
    return (
      `if [ -d ${dir} ]; then echo 0 > ${dir}/events/enable; ` +
      `grep -v '^#' ${trigger} | sed -e 's/:unlimited//' -e 's/ \\[.*//' | while read -r t; do echo "!$t" >> ${trigger}; done; ` +
      `for i in $(seq 20); do rmdir ${dir} 2>/dev/null && break; sleep 0.1; done; fi`
    );
  });
  return [MOUNT_TRACEFS, ...removals, 'true'].join('; ');
}

/** Removes the named instances from inside `ns` if they are still there (a collector that died left them). */
export function removeTracefsInstances(ns: Namespace, ...names: string[]): void {
  ns.exec('sh', '-c', removeTracefsInstancesScript(names));
}
