/**
 * A tracefs instance's per-CPU ring buffer statistics (`per_cpu/cpuN/stats`): how many events the ring buffer lost.
 * `overrun` counts events overwritten before they were read (overwrite mode, the default), `commit overrun` events
 * lost while the buffer was being written to from nested contexts, `dropped events` events refused in no-overwrite
 * mode. A pure parser, and the sum over every CPU of an instance.
 */
import { ParseError } from '../../errors';
import { parseCount, procfsLines } from '../procfs-text';
import { openKeptFiles, type Tracefs } from './tracefs';

export interface RingBufferStats {
  readonly entries: number;
  readonly overrun: number;
  readonly commitOverrun: number;
  readonly droppedEvents: number;
  readonly readEvents: number;
}

/** Parses one CPU's `stats`; throws ParseError when `entries` or `overrun` is missing or a count is not one. */
export function parseRingBufferStats(text: string, file = 'stats'): RingBufferStats {
  const values = new Map<string, number>();
  procfsLines(text, file).forEach((line, index) => {
    const match = /^([a-z ]+):\s+(\S+)$/.exec(line);
    if (!match)
      throw new ParseError(file, `expected "name: value", got ${JSON.stringify(line.slice(0, 60))}`, index + 1);
    const name = match[1]!;
    // Timestamps ("oldest event ts:  12.34") are not counts.
    if (name.endsWith(' ts')) return;
    values.set(name, parseCount(match[2], file, name, index + 1));
  });
  const required = (name: string) => {
    const value = values.get(name);
    if (value === undefined) throw new ParseError(file, `no "${name}:" line`);
    return value;
  };
  return {
    entries: required('entries'),
    overrun: required('overrun'),
    commitOverrun: values.get('commit overrun') ?? 0,
    droppedEvents: values.get('dropped events') ?? 0,
    readEvents: values.get('read events') ?? 0,
  };
}

/** Events a ring buffer lost for good (never read, never to be read). */
export function lostEvents(stats: RingBufferStats): number {
  return stats.overrun + stats.commitOverrun + stats.droppedEvents;
}

/** The lost events of one tracefs instance, its per-CPU `stats` files kept open (createInstanceLostEvents). */
export interface InstanceLostEvents {
  /** Events the instance's ring buffers lost for good, summed over every CPU. Throws ParseError or the read's error. */
  read(): number;
  /** Closes the kept files (before the instance is removed: they keep it busy). */
  close(): void;
}

/**
 * The lost-event reader of instance `instanceDir` (`instances/NAME`): lists `per_cpu/` once (one directory per
 * possible CPU, fixed at boot) and keeps each `cpuN/stats` open, since stream mode reads them at every gathering.
 * Throws the file system error of the listing or an open (having closed what it opened).
 */
export function createInstanceLostEvents(tracefs: Tracefs, instanceDir: string): InstanceLostEvents {
  const perCpu = `${instanceDir}/per_cpu`;
  const paths = tracefs
    .list(perCpu)
    .filter((cpu) => /^cpu\d+$/.test(cpu))
    .map((cpu) => `${perCpu}/${cpu}/stats`);
  const files = openKeptFiles(tracefs, paths).map((file, index) => ({ file, path: tracefs.pathOf(paths[index]!) }));
  return {
    read() {
      let lost = 0;
      for (let i = 0; i < files.length; i++)
        lost += lostEvents(parseRingBufferStats(files[i]!.file.read(), files[i]!.path));
      return lost;
    },
    close() {
      for (const { file } of files) file.close();
      files.length = 0;
    },
  };
}
