/**
 * What clients can hold on the collector's port, with real sockets on loopback: a connection that sends nothing is
 * closed after --read-header-timeout, the connection cap closes the oldest idle connection for a new one, and a
 * flood of idle connections larger than the process's descriptor limit leaves /metrics reachable on the real
 * collector process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { createSockstatSource } from '../../src/sources/linux/sockstat';
import { startCollector } from '../helpers/collector-in-process';
import { COLLECTOR_CLI } from '../helpers/netns';

/** Opens a TCP connection that sends nothing; resolves once connected. */
function idleConnection(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || socket.readyState === 'closed') resolve();
    socket.once('close', () => resolve());
  });
}

/** GET /metrics with a deadline; resolves with the status, or 0 when it did not answer in time. */
async function metricsStatus(port: number, timeoutMs: number): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.text();
    return response.status;
  } catch {
    return 0;
  }
}

describe('connection limits', () => {
  it('closes a connection that sends no request within --read-header-timeout, and keeps one that did', async () => {
    const collector = await startCollector([createSockstatSource()], { readHeaderTimeout: '0.3' });
    try {
      const idle = await idleConnection(collector.port);
      const started = Date.now();
      await closed(idle);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(await metricsStatus(collector.port, 5000)).toBe(200);
    } finally {
      await collector.close();
    }
  });

  it('at --max-connections, closes the oldest idle connection to serve a new client', async () => {
    const collector = await startCollector([createSockstatSource()], { maxConnections: '8', readHeaderTimeout: '60' });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 8; i += 1) sockets.push(await idleConnection(collector.port));
      expect(await metricsStatus(collector.port, 5000)).toBe(200);
      await closed(sockets[0]!);
      expect(sockets.slice(1).every((s) => !s.destroyed)).toBe(true);
      // The cap holds however many arrive: 20 more idle connections leave at most 8 open.
      for (let i = 0; i < 20; i += 1) sockets.push(await idleConnection(collector.port));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(collector.server.connections).toBeLessThanOrEqual(8);
      expect(await metricsStatus(collector.port, 5000)).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
      await collector.close();
    }
  });
});

describe('a flood of idle connections on the real collector', () => {
  let child: ChildProcess | undefined;
  const sockets: net.Socket[] = [];

  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    child?.kill('SIGKILL');
  });

  it('keeps /metrics reachable with 1100 idle connections and a 1024 file-descriptor limit', async () => {
    // The collector as deployed (default limits), its descriptor limit lowered to the common default of 1024.
    child = spawn(
      'sh',
      [
        '-c',
        'ulimit -n 1024 && exec "$0" "$@"',
        process.execPath,
        COLLECTOR_CLI,
        'serve',
        '--listen',
        '127.0.0.1:0',
        '--sources',
        'sockstat',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let logs = '';
    const port = await new Promise<number>((resolve, reject) => {
      child!.stderr!.on('data', (chunk: Buffer) => {
        logs += chunk.toString();
        const match = /serving \/metrics on port (\d+)/.exec(logs);
        if (match) resolve(Number(match[1]));
      });
      child!.once('exit', () => reject(new Error(`exited early: ${logs}`)));
    });
    expect(await metricsStatus(port, 10_000)).toBe(200);

    // 1100 connections that send nothing, opened in batches (the kernel completes them whether or not the
    // collector accepts them).
    for (let batch = 0; batch < 11; batch += 1) {
      const opened = await Promise.allSettled(Array.from({ length: 100 }, () => idleConnection(port)));
      for (const result of opened) if (result.status === 'fulfilled') sockets.push(result.value);
    }
    expect(sockets.length).toBeGreaterThan(1024);

    // While they are all open (well within the read-header deadline), Prometheus still gets its answer.
    const started = Date.now();
    expect(await metricsStatus(port, 5000)).toBe(200);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(logs).toMatch(/connection limit reached/);
    expect(logs).not.toMatch(/EMFILE/);
  });
});
