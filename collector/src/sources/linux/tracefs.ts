/**
 * Thin I/O on tracefs: finding or mounting it, making and removing our own instance (a private ring buffer with its
 * own event switches, so we never disturb the global trace or another tool's instance), writing control files with
 * errors that name the file, and reading `trace_pipe` without ever blocking the event loop (O_NONBLOCK: a read
 * returns what is buffered, or EAGAIN).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SourceUnavailableError } from '../../errors';

/** The file system type mounted at `dir` according to a mountinfo text (pure), or undefined. */
export function mountTypeAt(mountinfo: string, dir: string): string | undefined {
  let type: string | undefined;
  for (const line of mountinfo.split('\n')) {
    // "36 35 98:0 / /mnt rw,noatime master:1 - tracefs nodev rw": mount point is field 5, type follows " - ".
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (separator < 0 || fields.length < 5) continue;
    const mountPoint = fields[4]!.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    // Later lines override earlier ones: the last mount on a path is the visible one.
    if (mountPoint === dir) type = fields[separator + 1];
  }
  return type;
}

export interface TracefsMount {
  readonly root: string;
  /** True when this process mounted it (and should unmount it when it stops). */
  readonly mountedByUs: boolean;
}

/** Finds tracefs at `root`, mounting it there when it is not mounted (needs CAP_SYS_ADMIN). */
export function ensureTracefs(root: string, procPath: string): TracefsMount {
  const resolved = path.resolve(root);
  const mountinfo = fs.readFileSync(path.join(procPath, 'self', 'mountinfo'), 'latin1');
  if (mountTypeAt(mountinfo, resolved) === 'tracefs' || fs.existsSync(path.join(resolved, 'instances'))) {
    return { root: resolved, mountedByUs: false };
  }
  if (!fs.existsSync(resolved)) {
    throw new SourceUnavailableError(`tracefs path ${resolved} does not exist (set --tracefs-path)`);
  }
  const result = spawnSync('mount', ['-t', 'tracefs', 'nodev', resolved], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new SourceUnavailableError(
      `tracefs is not mounted at ${resolved} and mounting it failed (${(result.stderr || result.error?.message || '').trim()}): ` +
        'run as root or with CAP_SYS_ADMIN, or mount tracefs there',
    );
  }
  return { root: resolved, mountedByUs: true };
}

export function unmountTracefs(mount: TracefsMount): void {
  if (mount.mountedByUs) spawnSync('umount', [mount.root], { stdio: 'ignore' });
}

export function readControl(file: string): string {
  return fs.readFileSync(file, 'latin1');
}

/** Writes a tracefs control file; the kernel's refusal (EINVAL for a bad filter) names the file and the text. */
export function writeControl(file: string, text: string, append = false): void {
  try {
    fs.writeFileSync(file, text, { flag: append ? 'a' : 'w' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new SourceUnavailableError(`writing ${JSON.stringify(text)} to ${file} failed: ${code}`);
  }
}

export function tryWriteControl(file: string, text: string, append = false): boolean {
  try {
    fs.writeFileSync(file, text, { flag: append ? 'a' : 'w' });
    return true;
  } catch {
    return false;
  }
}

/** Removes every trigger in an event's `trigger` file (each line is removed by writing it back with a `!`). */
export function clearTriggers(triggerFile: string): void {
  if (!fs.existsSync(triggerFile)) return;
  for (const line of readControl(triggerFile).split('\n')) {
    const trigger = line.trim();
    if (trigger === '' || trigger.startsWith('#')) continue;
    // "stacktrace:count=5 if reason == 12" is removed as "!stacktrace if reason == 12"; hist triggers as written.
    const removal = trigger.replace(/^(\w+):(?:unlimited|count=\d+|\d+)/, '$1').replace(/ \[(active|paused)\]$/, '');
    tryWriteControl(triggerFile, `!${removal}`, true);
  }
}

/**
 * Removes an instance. A plain rmdir first: the kernel tears down its events and triggers itself, and refuses with
 * EBUSY while a live reader holds its files open (another collector is using it), in which case nothing is touched.
 * Only if rmdir fails otherwise are its events switched off and triggers dropped before a second try.
 */
export function removeInstance(dir: string, eventDirs: readonly string[]): 'removed' | 'absent' | 'busy' {
  const tryRemove = (): 'removed' | 'absent' | 'busy' | 'failed' => {
    try {
      fs.rmdirSync(dir);
      return 'removed';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EBUSY') return 'busy';
      if (code === 'ENOENT') return 'absent';
      return 'failed';
    }
  };
  const first = tryRemove();
  if (first !== 'failed') return first;
  for (const eventDir of eventDirs) {
    tryWriteControl(path.join(dir, 'events', eventDir, 'enable'), '0');
    clearTriggers(path.join(dir, 'events', eventDir, 'trigger'));
    tryWriteControl(path.join(dir, 'events', eventDir, 'filter'), '0');
  }
  fs.rmdirSync(dir);
  return 'removed';
}

/** A trace_pipe opened non-blocking: `read` returns the text buffered so far (whole lines only) without waiting. */
export class NonBlockingPipe {
  private fd: number | undefined;
  private rest = '';
  private readonly buffer = Buffer.allocUnsafe(1 << 20);

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  }

  /** Complete lines read now (at most about `maxBytes`), leaving a partial last line for the next call. */
  readLines(maxBytes: number): string[] {
    if (this.fd === undefined) return [];
    let text = this.rest;
    let total = 0;
    while (total < maxBytes) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buffer, 0, this.buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw error;
      }
      if (n === 0) break;
      total += n;
      text += this.buffer.toString('latin1', 0, n);
    }
    const end = text.lastIndexOf('\n');
    this.rest = text.slice(end + 1);
    return end < 0 ? [] : text.slice(0, end).split('\n');
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
