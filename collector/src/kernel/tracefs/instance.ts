/**
 * tracefs instances (`instances/NAME`): a private ring buffer with its own event switches, filters and triggers, so a
 * tool never disturbs the global trace or another tool's instance. Creating one, removing one (also one a crashed run
 * left behind), and removing the triggers of an event.
 */
import { SourceUnavailableError } from '../../errors';
import { tryWrite, type Tracefs } from './tracefs';

/** The directory of instance `name`, relative to the mount. */
export function instanceDir(name: string): string {
  return `instances/${name}`;
}

/**
 * The line that removes one trigger, written back (appended) to the `trigger` file it was read from, or undefined
 * for the file's comment and blank lines. Pure. A trigger is removed by its command with a leading `!`, without the
 * count the kernel shows: `stacktrace:count=5 if reason == 12` goes as `!stacktrace if reason == 12`, hist triggers
 * as shown but without the trailing ` [active]` / ` [paused]`.
 */
export function triggerRemoval(line: string): string | undefined {
  const trigger = line.trim();
  if (trigger === '' || trigger.startsWith('#')) return undefined;
  return `!${trigger.replace(/^(\w+):(?:unlimited|count=\d+|\d+)/, '$1').replace(/ \[(active|paused)\]$/, '')}`;
}

/** Removes every trigger in an event's `trigger` file (best effort: a refused removal is left for rmdir). */
export function clearTriggers(tracefs: Tracefs, triggerFile: string): void {
  if (!tracefs.exists(triggerFile)) return;
  for (const line of tracefs.read(triggerFile).split('\n')) {
    const removal = triggerRemoval(line);
    if (removal !== undefined) tryWrite(tracefs, triggerFile, removal, 'append');
  }
}

/**
 * Creates an instance with a per-CPU ring buffer of `bufferSizeKb`; returns its directory. All or nothing: when the
 * buffer size is refused, the new instance is removed before the error is thrown, so a throw means nothing was created.
 */
export function createInstance(tracefs: Tracefs, name: string, bufferSizeKb: number): string {
  const dir = instanceDir(name);
  tracefs.makeDir(dir);
  try {
    tracefs.write(`${dir}/buffer_size_kb`, String(bufferSizeKb));
  } catch (error) {
    tracefs.removeDir(dir);
    throw error;
  }
  return dir;
}

/**
 * Removes an instance. A plain rmdir first: the kernel tears down its events and triggers itself, and refuses with
 * EBUSY while a live reader holds its files open (another process is using it), in which case nothing is touched.
 * Only if rmdir fails otherwise are the listed events (`skb/kfree_skb`, relative to `events/`) switched off and their
 * filters and triggers removed before a second try; a second failure throws SourceUnavailableError.
 */
export function removeInstance(
  tracefs: Tracefs,
  dir: string,
  eventDirs: readonly string[],
): 'removed' | 'absent' | 'busy' {
  const first = tracefs.removeDir(dir);
  if (first !== 'failed') return first;
  for (const eventDir of eventDirs) {
    const event = `${dir}/events/${eventDir}`;
    tryWrite(tracefs, `${event}/enable`, '0');
    clearTriggers(tracefs, `${event}/trigger`);
    tryWrite(tracefs, `${event}/filter`, '0');
  }
  const second = tracefs.removeDir(dir);
  if (second === 'failed') {
    throw new SourceUnavailableError(
      `cannot remove tracefs instance ${tracefs.pathOf(dir)} even with its events off: remove it by hand (rmdir)`,
    );
  }
  return second;
}
