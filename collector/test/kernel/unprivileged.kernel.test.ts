/**
 * The real collector run as an unprivileged user (nobody) with every Linux source, as the quick start's `npm start`
 * does for a user who is not root: the sources that need privileges say why once, and nothing is reported that did
 * not happen (no instance was created, so none is said to be left behind), however many scrapes come.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnCollectorAsNobody } from '../helpers/as-nobody';
import { describeKernel, uniqueName, waitForOutput } from '../helpers/netns';

interface LogLine {
  level: number;
  msg: string;
  source?: string;
}

const WARN = 40;

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describeKernel('the collector as an unprivileged user', () => {
  it('logs each reason once and no cleanup of what it never created, across scrapes', async () => {
    const child = spawnCollectorAsNobody([
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--tracefs-instance',
      uniqueName('kt'),
      '--nft-table',
      uniqueName('kt'),
      '--scrape-reuse-window',
      '0',
    ]);
    const log = { text: '' };
    child.stderr!.on('data', (chunk: Buffer) => (log.text += chunk.toString()));
    try {
      const serving = await waitForOutput(child, /serving \/metrics on port \d+/, 30_000);
      const port = Number(/\d+$/.exec(serving)![0]);
      await waitForOutput(child, /"msg":"ready: /, 30_000);
      for (let scrape = 0; scrape < 3; scrape += 1) {
        const response = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(response.status).toBe(200);
        await response.text();
      }
      child.kill('SIGTERM');
      await exited(child);

      const lines = log.text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as LogLine);
      const warnings = lines.filter((line) => line.level >= WARN).map((line) => `${line.source}: ${line.msg}`);
      // What needs root says so: the drop source falls back to the kernel counters, tcp_flags is down.
      expect(warnings).toContainEqual(expect.stringMatching(/^drops: tracefs events cannot count drops \(permission/));
      expect(warnings).toContainEqual(expect.stringMatching(/^tcp_flags: source tcp_flags is down: /));
      // Nothing was created in tracefs: no cleanup of it is attempted, or reported as failed.
      expect(log.text).not.toMatch(/cannot remove tracefs instance|cleaning up after a failed start/);
      // Each warning once, not at every scrape.
      expect(warnings).toEqual([...new Set(warnings)]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
