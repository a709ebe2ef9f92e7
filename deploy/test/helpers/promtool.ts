/** Runs Debian's promtool (installed with the prometheus package) and returns its output; throws with it on failure. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

export const PROMTOOL = '/usr/bin/promtool';

export function promtoolUnavailable(): string | undefined {
  return fs.existsSync(PROMTOOL) ? undefined : `${PROMTOOL} is missing (apt-get install prometheus)`;
}

export function promtool(...args: string[]): string {
  const result = spawnSync(PROMTOOL, args, { encoding: 'utf8', timeout: 60_000 });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`promtool ${args.join(' ')} failed (${result.status}):\n${output}`);
  return output;
}

/** `describe`, or `describe.skip` with a note when promtool is not installed. */
export function describePromtool(name: string, body: () => void): void {
  const why = promtoolUnavailable();
  if (why) {
    // eslint-disable-next-line no-console
    console.warn(`skipping "${name}": ${why}`);
    describe.skip(name, body);
  } else {
    describe(name, body);
  }
}
