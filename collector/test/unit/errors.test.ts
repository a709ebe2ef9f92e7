/** Error messages that say what to do: a refused file says who owns it and which uid to run as. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeError } from '../../src/errors';
import { spawnCollectorAsNobody } from '../helpers/as-nobody';
import { describeKernel, waitForOutput } from '../helpers/netns';

function refused(code: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: refused, open '${file}'`), { code, path: file });
}

describe('describeError', () => {
  it('says who owns a file that cannot be opened, from its nearest existing directory, and which uid to run as', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-perm-'));
    try {
      const message = describeError(refused('EACCES', path.join(dir, 'instances', 'kappie')));
      const uid = fs.statSync(dir).uid;
      expect(message).toContain(`permission denied: ${dir}/instances/kappie`);
      expect(message).toContain(`${dir} belongs to uid ${uid} with mode 0700`);
      expect(message).toContain('run the collector as that uid');
      expect(message).not.toMatch(/capabilit/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names missing files and keeps other messages', () => {
    expect(describeError(refused('ENOENT', '/proc/net/snmp6'))).toBe('missing: /proc/net/snmp6');
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError('text')).toBe('text');
  });
});

describeKernel('the drop source as another user', () => {
  it('says tracefs needs uid 0, as the README does, not a capability', async () => {
    // The real collector serving as nobody (a one-shot snapshot never touches tracefs, so serving meets the permission).
    const child = spawnCollectorAsNobody([
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--sources',
      'drops',
      '--drop-reader',
      'tracefs',
      '--tracefs-instance',
      'kt-not-created',
    ]);
    try {
      const line = await waitForOutput(child, /source drops is down: [^"]*/, 30_000);
      expect(line).toMatch(
        /permission denied: \/sys\/kernel\/tracing\/\S+ \(.*belongs to uid 0 .*uid 65534: run the collector as that uid/,
      );
      expect(line).not.toMatch(/capabilit/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
