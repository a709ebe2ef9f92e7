/**
 * A tracefs instance's per-CPU ring buffer statistics (`per_cpu/cpuN/stats`): how many events the ring buffer lost.
 * `overrun` counts events overwritten before they were read (overwrite mode, the default), `commit overrun` events
 * lost while the buffer was being written to from nested contexts, `dropped events` events refused in no-overwrite
 * mode. A pure parser, and the sum over every CPU of an instance.
 */
import { ParseError } from '../../errors';
import { parseCount, procfsLines } from '../procfs-text';
import type { Tracefs } from './tracefs';

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

/** Events the ring buffers of an instance (`instances/NAME`) lost for good, summed over every CPU. */
export function readInstanceLostEvents(tracefs: Tracefs, instanceDir: string): number {
  const perCpu = `${instanceDir}/per_cpu`;
  let lost = 0;
  for (const cpu of tracefs.list(perCpu)) {
    if (!/^cpu\d+$/.test(cpu)) continue;
    const file = `${perCpu}/${cpu}/stats`;
    lost += lostEvents(parseRingBufferStats(tracefs.read(file), tracefs.pathOf(file)));
  }
  return lost;
}
