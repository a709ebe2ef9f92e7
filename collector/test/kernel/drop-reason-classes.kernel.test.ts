/**
 * The running kernel's own drop reasons (the `reason` symbols of skb:kfree_skb's format, read through a tracefs mount
 * in a fresh mount namespace) all have a class in the table: a kernel upgrade that adds reasons fails here first.
 */
import { DROP_REASON_CLASSES } from '../../src/drop-reason-classes';
import { parseEventFormat } from '../../src/kernel/tracefs/format';
import { cleanup, describeKernel, Namespace } from '../helpers/netns';
import { MOUNT_TRACEFS } from '../helpers/tracefs-instances';

const NOT_DROPS = new Set(['SKB_NOT_DROPPED_YET', 'NOT_DROPPED_YET', 'SKB_CONSUMED', 'CONSUMED', 'MAX']);

describeKernel('drop reason classes on the running kernel', () => {
  afterAll(() => cleanup());

  it('classify every reason the running kernel names', () => {
    const ns = Namespace.create();
    const format = ns.exec('sh', '-c', `${MOUNT_TRACEFS}; cat /sys/kernel/tracing/events/skb/kfree_skb/format`);
    const reasons = [...(parseEventFormat(format).symbols.get('reason')?.values() ?? [])].filter(
      (name) => !NOT_DROPS.has(name),
    );
    const listed = new Set(DROP_REASON_CLASSES.map((entry) => entry.reason));
    // Kernels before 5.17 have no reason field: nothing to check there.
    expect(reasons.filter((reason) => !listed.has(reason))).toEqual([]);
  });
});
