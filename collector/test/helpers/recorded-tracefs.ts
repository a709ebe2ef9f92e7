/**
 * A tracefs made of recorded files, for what the CI kernel lacks (hist triggers, kprobe events): a temporary
 * directory laid out like a tracefs mount, read and written through the real node:fs Tracefs (createTracefs), except
 * the two operations whose effect is the kernel's own: making a directory under `instances/` creates the instance's
 * files (from the recorded ones given here, as a kernel with those features shows them), and removing it removes
 * them. Every control-file write lands in a plain file the test reads back: the triggers, filters and kprobe
 * definitions the source wrote, in order.
 *
 * Not exercised by this fake: the kernel accepting or refusing a trigger, and tables filling up (hist files are
 * recorded ones, not the result of the triggers written).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TracefsMount } from '../../src/kernel/tracefs/mount';
import { createTracefs, type Tracefs } from '../../src/kernel/tracefs/tracefs';

/** The part of a tracefs README that documents kprobe BTF arguments (Documentation/trace/kprobetrace.rst). */
export const KPROBE_BTF_README =
  '\t place: [<module>:]<symbol>[+<offset>]|<memaddr>\n' +
  '\t args: <name>=fetcharg[:type]\n' +
  '\t fetcharg: (%<register>|$<efield>), @<address>, @<symbol>[+|-<offset>],\n' +
  '\t           $stack<index>, $stack, $retval, $comm, $arg<N>,\n' +
  '\t           [(structname[,field])]<argname>[->field[->field|.field...]],\n';

export interface RecordedTracefsOptions {
  /** `events/skb/kfree_skb/format` of the recorded kernel. */
  readonly format: string;
  /** The kfree_skb `hist` file of a new instance; given, the kernel has hist triggers (hist mode). */
  readonly hist?: string;
  /** The kprobe event's `hist`; given, the kernel has kprobe events with BTF arguments (kprobe_events, README). */
  readonly kprobeHist?: string;
  /** What a new instance's `trace_pipe` holds (stream mode). */
  readonly tracePipe?: string;
  /** `per_cpu/cpuN/stats` of a new instance, one text per CPU. */
  readonly cpuStats: readonly string[];
}

export interface RecordedTracefs {
  readonly root: string;
  readonly tracefs: Tracefs;
  /** What mountTracefs gives for it (already mounted: never mounted or unmounted by the source). */
  mount(): TracefsMount;
  /** The text of a file under the root, or undefined when it does not exist. */
  text(relativePath: string): string | undefined;
  /** Removes the temporary directory. */
  remove(): void;
}

function writeTree(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [relativePath, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, relativePath)), { recursive: true });
    fs.writeFileSync(path.join(dir, relativePath), text);
  }
}

export function recordedTracefs(options: RecordedTracefsOptions): RecordedTracefs {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-tracefs-'));
  const top: Record<string, string> = { 'events/skb/kfree_skb/format': options.format, README: '' };
  if (options.kprobeHist !== undefined) Object.assign(top, { README: KPROBE_BTF_README, kprobe_events: '' });
  writeTree(root, top);
  fs.mkdirSync(path.join(root, 'instances'));

  const instanceFiles: Record<string, string> = {
    buffer_size_kb: '1408\n',
    'options/hash-ptr': '1\n',
    trace_pipe: options.tracePipe ?? '',
    'events/skb/kfree_skb/format': options.format,
    'events/skb/kfree_skb/enable': '0\n',
    'events/skb/kfree_skb/filter': 'none\n',
    'events/skb/kfree_skb/trigger': '',
  };
  options.cpuStats.forEach((stats, cpu) => (instanceFiles[`per_cpu/cpu${cpu}/stats`] = stats));
  if (options.hist !== undefined) instanceFiles['events/skb/kfree_skb/hist'] = options.hist;
  if (options.kprobeHist !== undefined) {
    instanceFiles['events/kappie/kfree_skb_bytes/trigger'] = '';
    instanceFiles['events/kappie/kfree_skb_bytes/hist'] = options.kprobeHist;
  }

  const onDisk = createTracefs(root);
  const isInstance = (relativePath: string) => /^instances\/[^/]+$/.test(relativePath);
  const tracefs: Tracefs = {
    ...onDisk,
    makeDir(relativePath) {
      onDisk.makeDir(relativePath);
      if (isInstance(relativePath)) writeTree(onDisk.pathOf(relativePath), instanceFiles);
    },
    removeDir(relativePath) {
      if (!isInstance(relativePath)) return onDisk.removeDir(relativePath);
      if (!onDisk.exists(relativePath)) return 'absent';
      fs.rmSync(onDisk.pathOf(relativePath), { recursive: true });
      return 'removed';
    },
  };
  return {
    root,
    tracefs,
    mount: () => ({ tracefs, mountedByUs: false, unmount: () => undefined }),
    text: (relativePath) => (onDisk.exists(relativePath) ? onDisk.read(relativePath) : undefined),
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}
