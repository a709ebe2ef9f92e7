/**
 * Creating a tracefs instance on the real tracefs is all or nothing: when the kernel refuses its buffer size, the new
 * instance is gone again before the error reaches the caller (who then has nothing to clean up, and says nothing).
 */
import * as fs from 'node:fs';
import { createInstance, instanceDir } from '../../src/kernel/tracefs/instance';
import { mountTracefs } from '../../src/kernel/tracefs/mount';
import { describeKernel, uniqueName } from '../helpers/netns';

describeKernel('createInstance on the real tracefs', () => {
  it('removes the new instance when the kernel refuses its buffer size', () => {
    const mount = mountTracefs('/sys/kernel/tracing');
    const name = uniqueName('kt');
    try {
      // The kernel refuses a ring buffer of 0 KiB (EINVAL: it must hold at least one entry).
      expect(() => createInstance(mount.tracefs, name, 0)).toThrow(/EINVAL/);
      expect(mount.tracefs.exists(instanceDir(name))).toBe(false);
      const dir = createInstance(mount.tracefs, name, 64);
      // Rounded up to whole pages by the kernel.
      expect(Number(fs.readFileSync(mount.tracefs.pathOf(`${dir}/buffer_size_kb`), 'utf8'))).toBeGreaterThanOrEqual(64);
    } finally {
      mount.tracefs.removeDir(instanceDir(name));
      mount.unmount();
    }
  });
});
