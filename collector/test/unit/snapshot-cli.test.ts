/**
 * `kappie snapshot` as a command: reading a real `kappie serve` on loopback (named with --from, or found through
 * KAPPIE_LISTEN as a `kubectl exec` inherits it), basic auth from the URL, and the errors an operator can meet.
 * (Drops beside a collector and the --duration window are in test/kernel/snapshot.kernel.test.ts.)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { hashSync } from 'bcryptjs';
import { readSnapshotJson } from '../../src/snapshot-json';
import { COLLECTOR_CLI } from '../helpers/netns';

/** Runs kappie without the serving container's variables, unless given. */
function kappie(env: Record<string, string | undefined>, ...args: string[]) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [COLLECTOR_CLI, ...args], {
      env: { ...process.env, KAPPIE_LISTEN: undefined, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Starts `kappie serve` (sockstat only) on a free loopback port. */
async function startServe(...args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [COLLECTOR_CLI, 'serve', '--listen', '127.0.0.1:0', '--sources', 'sockstat', ...args],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let logs = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      logs += chunk.toString();
      const match = /serving \/metrics on port (\d+)/.exec(logs);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', () => reject(new Error(`exited early: ${logs}`)));
  });
  return { child, port };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A loopback HTTP server answering every request with `status` and `body`. */
async function answering(status: number, body: string): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_, response) => {
    response.writeHead(status, { 'Content-Type': 'text/plain' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('kappie snapshot next to a serving collector', () => {
  let serving: { child: ChildProcess; port: number };
  beforeAll(async () => {
    serving = await startServe();
  });
  afterAll(() => stop(serving.child));

  it('reads the collector named with --from, and says so in the JSON', async () => {
    const url = `http://127.0.0.1:${serving.port}/metrics`;
    const result = await kappie({}, 'snapshot', '--json', '--from', url, '--sources', 'drops');
    expect(result.status).toBe(0);
    // A gathering option does not filter the collector's totals, and the snapshot says so.
    expect(result.stderr).toContain(`--sources shapes a gathering here, not the totals of the collector at ${url}`);
    const { gathering, origin } = readSnapshotJson(result.stdout);
    expect(origin).toEqual(expect.objectContaining({ kind: 'collector', url, metricPrefix: 'kappie_' }));
    expect(gathering.samples.udpActiveSockets?.[0]?.value).toEqual(expect.any(Number));
    expect(gathering.sources).toEqual([expect.objectContaining({ name: 'sockstat', up: true })]);
  });

  it('finds it where KAPPIE_LISTEN says `kappie serve` listens, and says where the numbers came from', async () => {
    const result = await kappie({ KAPPIE_LISTEN: `:${serving.port}` }, 'snapshot');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `^From the collector serving http://127\\.0\\.0\\.1:${serving.port}/metrics on node \\S+, scraped at `,
      ),
    );
    expect(result.stdout).toMatch(/not exported by that collector: it does not run drops/);
    expect(result.stdout).toMatch(/^UDP sockets in use: \d+$/m);
  });
});

describe('kappie snapshot of a collector with basic auth', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-snapshot-'));
  let serving: { child: ChildProcess; port: number };
  beforeAll(async () => {
    const file = path.join(dir, 'web.yml');
    fs.writeFileSync(file, `basic_auth_users:\n  ops: '${hashSync('s:cret', 4)}'\n`);
    serving = await startServe('--web-config-file', file);
  });
  afterAll(async () => {
    await stop(serving.child);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends the user and password of the URL; without them, says how to give them', async () => {
    const url = `http://ops:s%3Acret@127.0.0.1:${serving.port}/metrics`;
    const result = await kappie({}, 'snapshot', '--json', '--from', url);
    expect(result.status).toBe(0);
    expect(readSnapshotJson(result.stdout).origin).toEqual(
      expect.objectContaining({ kind: 'collector', url: `http://127.0.0.1:${serving.port}/metrics` }),
    );
    const refused = await kappie({ KAPPIE_LISTEN: `127.0.0.1:${serving.port}` }, 'snapshot');
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([
      `kappie: the collector at http://127.0.0.1:${serving.port}/metrics answered 401 Unauthorized (basic auth: put ` +
        'the user and password in the URL); name the collector with --from URL, or gather here with --from none',
    ]);
  });
});

describe('kappie snapshot errors', () => {
  it('refuses a bad --duration or --from in one line, exit code 2', async () => {
    const duration = await kappie({}, 'snapshot', '--duration', 'soon');
    expect(duration.status).toBe(2);
    expect(duration.stderr.trim()).toBe('kappie: invalid --duration: "soon" is not a number of seconds from 0 to 3600');
    const from = await kappie({}, 'snapshot', '--from', '127.0.0.1:10093');
    expect(from.status).toBe(2);
    expect(from.stderr.trim()).toMatch(/^kappie: invalid --from: "127.0.0.1:10093" is not a URL/);
  });

  it('refuses --duration 0 with a reader of tracefs events only, naming both and the ways out, exit code 2', async () => {
    for (const reader of ['stream', 'hist', 'tracefs']) {
      const flag = await kappie({}, 'snapshot', '--from', 'none', '--duration', '0', '--drop-reader', reader);
      expect(flag.status).toBe(2);
      expect(flag.stdout).toBe('');
      expect(flag.stderr.trim()).toBe(
        `kappie: invalid --drop-reader: "${reader}" counts tracefs events over a window, but --duration 0 reads the ` +
          'kernel drop counters at once: give --duration N (seconds to count drops by kernel reason), or leave the ' +
          'drop reader at auto or counters',
      );
    }
    // Set in the environment (a kubectl exec inherits the serving container's): the error names the variable.
    const env = await kappie({ KAPPIE_DROP_READER: 'hist' }, 'snapshot', '--from', 'none', '--duration', '0');
    expect(env.status).toBe(2);
    expect(env.stderr).toMatch(/^kappie: invalid KAPPIE_DROP_READER: "hist" counts tracefs events .* --duration 0/);
    // auto and counters read the counters at once, as --duration 0 asks.
    const counters = await kappie({}, 'snapshot', '--from', 'none', '--duration', '0', '--drop-reader', 'counters');
    expect(counters.status).toBe(0);
  });

  it('says which port fetch refuses (the Fetch standard\'s blocked ports) rather than "bad port"', async () => {
    const result = await kappie({}, 'snapshot', '--from', 'http://127.0.0.1:1/metrics');
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'kappie: cannot read the collector at http://127.0.0.1:1/metrics: fetch refuses port 1 (one of the ports the ' +
        'Fetch standard blocks, as browsers do): serve the collector on another port (kappie serve --listen :10093)',
    );
  });

  it('says what to do when nothing listens where --from points', async () => {
    const { server, port } = await answering(200, 'unused\n');
    server.close(); // a port that was just free: nothing listens there now
    await new Promise((resolve) => server.once('close', resolve));
    const result = await kappie({}, 'snapshot', '--from', `http://127.0.0.1:${port}/metrics`);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      `kappie: cannot read the collector at http://127.0.0.1:${port}/metrics: ECONNREFUSED: nothing listens there ` +
        '(is `kappie serve` running, on that address?); to count here instead, use --from none',
    );
  });

  it('says a URL that answers something else than Prometheus metrics does not serve them (a /healthz)', async () => {
    const { child, port } = await startServe();
    try {
      const result = await kappie({}, 'snapshot', '--from', `http://127.0.0.1:${port}/healthz`);
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toMatch(
        new RegExp(
          `^kappie: http://127\\.0\\.0\\.1:${port}/healthz does not serve Prometheus metrics: its answer is not ` +
            `in the Prometheus text format \\(line 1: "ok" has no value\\); a Kappie collector serves them at ` +
            `http://127\\.0\\.0\\.1:${port}/metrics$`,
        ),
      );
    } finally {
      await stop(child);
    }
    // An HTML page, as a wrong port may answer.
    const { server, port: htmlPort } = await answering(200, '<!doctype html>\n<html><body>hello</body></html>\n');
    try {
      const html = await kappie({}, 'snapshot', '--from', `http://127.0.0.1:${htmlPort}/`);
      expect(html.status).toBe(1);
      expect(html.stderr).toContain('does not serve Prometheus metrics');
    } finally {
      server.close();
    }
  });

  it('says when what answers at the default address is not a Kappie collector, instead of counting beside it', async () => {
    const { server, port } = await answering(200, 'node_load1 0.5\n');
    try {
      const result = await kappie({ KAPPIE_LISTEN: `127.0.0.1:${port}` }, 'snapshot', '--sources', 'sockstat');
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`http://127.0.0.1:${port}/metrics is not a Kappie collector's /metrics`);
    } finally {
      server.close();
    }
  });

  it('gathers here when nothing answers at the default address, and says where it looked', async () => {
    const { server, port } = await answering(200, '');
    server.close();
    const result = await kappie({ KAPPIE_LISTEN: `127.0.0.1:${port}` }, 'snapshot', '--json', '--sources', 'sockstat');
    expect(result.status).toBe(0);
    expect(readSnapshotJson(result.stdout).origin).toEqual({
      kind: 'local',
      lookedFor: `http://127.0.0.1:${port}/metrics`,
      drops: { countedBy: 'none' },
    });
  });

  it('lists --from and --duration under snapshot --help', () => {
    const help = spawnSync(process.execPath, [COLLECTOR_CLI, 'snapshot', '--help'], { encoding: 'utf8' }).stdout;
    expect(help).toContain('--from <URL>');
    expect(help).toContain('--duration <SECONDS>');
  });
});
