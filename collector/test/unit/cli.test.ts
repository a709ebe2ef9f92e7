import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METRICS, METRIC_KEYS } from '../../src/catalog';
import { OPTIONS } from '../../src/config';
import { parseSnapshotJson } from '../../src/snapshot-json';
import { NFT_FAMILIES } from '../../src/sources/linux/nft-ruleset';
import { COLLECTOR_CLI } from '../helpers/netns';

function kappieWithEnv(env: Record<string, string | undefined>, ...args: string[]) {
  return spawnSync(process.execPath, [COLLECTOR_CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, KAPPIE_LISTEN: undefined, ...env },
  });
}

/** A table name no collector uses (nothing creates it: the tests only look it up). */
function uniqueTableName(): string {
  return `kt${process.pid}x${Date.now().toString(36)}`;
}

function kappie(...args: string[]) {
  return kappieWithEnv({}, ...args);
}

/** The lines a failed run wrote on stderr. */
function errorLines(result: { stderr: string }): string[] {
  return result.stderr.trim().split('\n');
}

/** Starts `kappie serve` on a free loopback port; resolves with the process, its port and its log so far. */
function startServe(...args: string[]) {
  const child = spawn(process.execPath, [COLLECTOR_CLI, '--listen', '127.0.0.1:0', '--sources', 'sockstat', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const state = { logs: '' };
  const port = new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      state.logs += chunk.toString();
      const match = /serving \/metrics on port (\d+)/.exec(state.logs);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', () => reject(new Error(`exited early: ${state.logs}`)));
  });
  return { child, port, state };
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

  it('names the environment variable the user set, not the flag, for a bad value found after parsing', () => {
    for (const [variable, value] of [
      ['KAPPIE_SOURCES', 'foo'],
      ['KAPPIE_DISABLE_SOURCES', 'bar'],
    ] as const) {
      const result = kappieWithEnv({ [variable]: value }, 'snapshot');
      expect(result.status).toBe(2);
      expect(errorLines(result)).toEqual([
        expect.stringMatching(new RegExp(`^kappie: invalid ${variable}: unknown source`)),
      ]);
    }
  });

  it('says a mistyped command is unknown and suggests the nearest one', () => {
    const result = kappie('snaphot');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'snaphot'");
    expect(result.stderr).toContain('Did you mean snapshot?');
    expect(result.stderr).not.toContain('too many arguments');
  });

  it('points a usage error at the --help that lists what was mistyped: commands, or the options of its command', () => {
    for (const [args, hint] of [
      [['bogus'], '(run kappie --help for every command)'],
      [['dashboards', 'bogus'], '(run kappie dashboards --help for every command)'],
      [['snapshot', '--bogus'], '(run kappie snapshot --help for every option)'],
      [['dashboards', 'push', '--bogus'], '(run kappie dashboards push --help for every option)'],
    ] as const) {
      const result = kappie(...args);
      expect(result.status).toBe(2);
      expect(errorLines(result).at(-1)).toBe(hint);
    }
  });

  it('says a --listen port is out of range rather than not HOST:PORT', () => {
    for (const listen of [':99999', '127.0.0.1:65536', '[::1]:123456']) {
      const result = kappie('serve', '--listen', listen);
      expect(result.status).toBe(2);
      expect(errorLines(result)).toEqual([
        `kappie: invalid --listen: "${listen}": port ${listen.split(':').at(-1)} is out of range (a TCP port is ` +
          '1-65535, or 0 to pick a free one)',
      ]);
    }
  });

  it('refuses path options that do not point at what they name, in one line, exit code 2', () => {
    for (const command of [['serve', '--listen', '127.0.0.1:0'], ['snapshot']]) {
      const missing = kappie(...command, '--proc-path', '/nonexistent');
      expect(missing.status).toBe(2);
      expect(errorLines(missing)).toEqual([
        'kappie: invalid --proc-path: "/nonexistent" does not exist (it should be a procfs mount such as /proc or /host/proc)',
      ]);
    }
    const notSysfs = kappieWithEnv({ KAPPIE_SYS_PATH: os.tmpdir() }, 'snapshot');
    expect(notSysfs.status).toBe(2);
    expect(errorLines(notSysfs)).toEqual([
      expect.stringMatching(/^kappie: invalid KAPPIE_SYS_PATH: .* has no class\/net$/),
    ]);
  });

  it('lists under snapshot --help only the options a snapshot uses', () => {
    const help = kappie('snapshot', '--help').stdout;
    expect(help).toContain('--json');
    expect(help).toContain('--proc-path');
    expect(help).toContain('--nft-table');
    for (const serveOnly of [
      '--listen',
      '--metric-prefix',
      '--log-level',
      '--node-name',
      '--web-config-file',
      '--scrape-reuse-window',
    ]) {
      expect(help).not.toContain(serveOnly);
    }
    const serveHelp = kappie('serve', '--help').stdout;
    for (const spec of OPTIONS) expect(serveHelp).toContain(`--${spec.flag}`);
  });

  it('lists the sources with metric names and the kernel objects as configured', () => {
    const listing = kappieWithEnv({ KAPPIE_TRACEFS_INSTANCE: 'kt-from-env' }, 'sources', '--nft-table', 'ktFromFlag');
    expect(listing.status).toBe(0);
    expect(listing.stdout).toMatch(/^source\s+state\s+reason or note$/m);
    expect(listing.stdout).toMatch(/^sockstat\s+up\s*$/m);
    expect(listing.stdout).toMatch(/^sockstat\s+udp_active_sockets\s+\S/m);
    // Internal keys (udpActiveSockets) never appear; every metric a source fills appears by its catalog name.
    for (const key of METRIC_KEYS.filter((k) => /[A-Z]/.test(k))) expect(listing.stdout).not.toContain(key);
    expect(listing.stdout).toContain(METRICS.tcpFlagCounters.name);
    expect(listing.stdout).toContain('/sys/kernel/tracing/instances/kt-from-env');
    expect(listing.stdout).toContain('inet ktFromFlag');
    // The bridge table of the same name, made while an uplink is a bridge port, is named too.
    expect(listing.stdout).toContain('bridge ktFromFlag');
  });

  it('says in --help which nftables families --nft-table names a table in', () => {
    const help = kappie('serve', '--help').stdout.replace(/\s+/g, ' ');
    const nftTable = /--nft-table <NAME> (.*?)\[env KAPPIE_NFT_TABLE/.exec(help)?.[1] ?? '';
    for (const family of NFT_FAMILIES) expect(nftTable).toContain(`family ${family}`);
  });

  it('shows each source state from one gathering: up, down with the reason, not selected', () => {
    const table = uniqueTableName();
    const listing = kappie('sources', '--sources', 'sockstat,tcp_flags', '--nft-table', table);
    expect(listing.status).toBe(0);
    const stateTable = listing.stdout.slice(0, listing.stdout.indexOf('\n\n'));
    expect(stateTable.split('\n').slice(1, 3)).toEqual([
      expect.stringMatching(/^source\s+state\s+reason or note$/),
      expect.stringMatching(/^-+(\s+-+){2}$/),
    ]);
    expect(stateTable).toMatch(/^sockstat\s+up\s*$/m);
    // No collector serves with that table: tcp_flags is down and says why.
    expect(stateTable).toMatch(new RegExp(`^tcp_flags\\s+DOWN\\s+\\S.*${table}`, 'm'));
    expect(stateTable).toMatch(/^netdev\s+not selected\s+--sources/m);
    // Wider than a terminal only where a single word is (a found new user saw 326 columns).
    for (const line of listing.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(listing.stdout).toMatch(/^Sources of other platforms[^\n]*\nsource\s+platforms\s+metrics\s+reads$/m);
    expect(listing.stdout).toMatch(/^windows_vfp\s+windows\s+tcp_flag_counters/m);
    expect(kappie('sources', '--proc-path', '/nonexistent').status).toBe(2);
  });

  it('prints snapshot --json with catalog metric names', () => {
    const result = kappie('snapshot', '--json', '--from', 'none', '--sources', 'sockstat,snmp');
    expect(result.status).toBe(0);
    const json = JSON.parse(result.stdout) as { metrics: Record<string, unknown>; sources: { name: string }[] };
    expect(Object.keys(json.metrics)).toEqual(expect.arrayContaining(['udp_active_sockets', 'tcp_connection_stats']));
    expect(result.stdout).not.toMatch(/udpActiveSockets|tcpConnectionStats|durationSeconds/);
    expect(json.sources.map((s) => s.name)).toEqual(['sockstat', 'snmp']);
    const gathering = parseSnapshotJson(result.stdout);
    expect(gathering.samples.udpActiveSockets?.[0]?.value).toEqual(expect.any(Number));
  });

  it('refuses a web configuration file it cannot use, naming the file and the key', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-web-'));
    try {
      const file = path.join(dir, 'web.yml');
      fs.writeFileSync(
        file,
        'tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n',
      );
      const result = kappie('serve', '--listen', '127.0.0.1:0', '--web-config-file', file);
      expect(result.status).toBe(2);
      expect(errorLines(result)).toEqual([
        expect.stringMatching(
          /^kappie: invalid --web-config-file: .*web\.yml: tls_server_config\.cipher_suites: is not supported/,
        ),
      ]);
      const missing = kappieWithEnv(
        { KAPPIE_WEB_CONFIG_FILE: path.join(dir, 'nope.yml') },
        'serve',
        '--listen',
        '127.0.0.1:0',
      );
      expect(missing.status).toBe(2);
      expect(errorLines(missing)).toEqual([
        expect.stringMatching(/^kappie: invalid KAPPIE_WEB_CONFIG_FILE: .*nope\.yml: ENOENT/),
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints a readable snapshot', () => {
    const result = kappie('snapshot', '--from', 'none', '--sources', 'sockstat');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('UDP sockets in use:');
    expect(result.stdout).toMatch(/sockstat\s+up/);
  });

  it.each(['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT'] as const)(
    'serves on the port it was given and stops cleanly on %s',
    async (signal) => {
      const { child, port, state } = startServe();
      const body = await (await fetch(`http://127.0.0.1:${await port}/metrics`)).text();
      expect(body).toContain('kappie_udp_active_sockets');
      const exit = new Promise<[number | null, string | null]>((resolve) =>
        child.once('exit', (code, killedBy) => resolve([code, killedBy])),
      );
      child.kill(signal);
      expect(await exit).toEqual([0, null]);
      expect(state.logs).toContain(`"why":"${signal}"`);
      expect(state.logs).toContain('"msg":"stopped"');
      // The first gathering started the sources: the log says so (tests and users wait for it before sending traffic).
      expect(state.logs).toMatch(/"down":\[\],"msg":"ready: the sources are started/);
      for (const line of state.logs.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
    },
  );
});
