/** Error messages that say what to do: a refused file says who owns it and which uid to run as. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeError } from '../../src/errors';
import { parseSnapshotJson } from '../../src/snapshot-json';
import { COLLECTOR_CLI, describeKernel } from '../helpers/netns';

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
  it('says tracefs needs uid 0, as the README does, not a capability', () => {
    // A private mount namespace with tracefs mounted, and the real collector as nobody.
    const result = spawnSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing; exec setpriv --reuid=65534 --regid=65534 --clear-groups "$0" "$@"',
        process.execPath,
        COLLECTOR_CLI,
        'snapshot',
        '--json',
        '--sources',
        'drop_reasons',
        '--tracefs-instance',
        'kt-not-created',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.stderr).toBe('');
    const status = parseSnapshotJson(result.stdout).sources[0]!;
    expect(status.up).toBe(false);
    expect(status.reason).toMatch(
      /permission denied: .*instances\/kt-not-created \(.*belongs to uid 0 .*uid 65534: run the collector as that uid/,
    );
    expect(status.reason).not.toMatch(/capabilit/);
  });
});
