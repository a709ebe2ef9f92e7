import { spawn, spawnSync } from 'node:child_process';
import { COLLECTOR_CLI } from '../helpers/netns';

function kappie(...args: string[]) {
  return spawnSync(process.execPath, [COLLECTOR_CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, KAPPIE_LISTEN: undefined },
  });
}

describe('kappie CLI', () => {
  it('explains every option in --help, with its environment variable', () => {
    const help = kappie('serve', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--listen <HOST:PORT>');
    expect(help.stdout).toContain('KAPPIE_LISTEN');
    expect(help.stdout).toContain('--metric-prefix');
    expect(kappie('--help').stdout).toMatch(/snapshot[\s\S]*sources/);
  });

  it('rejects a bad value with one line naming the flag, exit code 2', () => {
    const result = kappie('serve', '--listen', 'nonsense');
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'kappie: invalid --listen: "nonsense" is not HOST:PORT (examples: :10093, 0.0.0.0:10093, [::1]:10093)',
    ]);
    const env = spawnSync(process.execPath, [COLLECTOR_CLI, 'snapshot'], {
      encoding: 'utf8',
      env: { ...process.env, KAPPIE_STATISTICS: 'some' },
    });
    expect(env.status).toBe(2);
    expect(env.stderr).toContain('KAPPIE_STATISTICS: "some" is not one of: default, all');
  });

  it('rejects unknown options and unknown sources with exit code 2', () => {
    expect(kappie('--no-such-flag').status).toBe(2);
    const unknown = kappie('snapshot', '--sources', 'nope');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown source "nope"');
  });

  it('prints a readable snapshot', () => {
    const result = kappie('snapshot', '--sources', 'sockstat');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('UDP sockets in use:');
    expect(result.stdout).toMatch(/sockstat\s+up/);
  });

  it('serves on the port it was given and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [COLLECTOR_CLI, '--listen', '127.0.0.1:0', '--sources', 'sockstat'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let logs = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        logs += chunk.toString();
        const match = /serving \/metrics on port (\d+)/.exec(logs);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', () => reject(new Error(`exited early: ${logs}`)));
    });
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(body).toContain('kappie_udp_active_sockets');
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(logs).toContain('"msg":"stopped"');
    for (const line of logs.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});
