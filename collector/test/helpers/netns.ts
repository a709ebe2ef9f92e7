/**
 * Real test hosts for kernel integration tests: network namespaces joined by veth pairs, commands and the real
 * collector run inside them. Everything created here is uniquely named (prefix `kt` + random) and removed by
 * `cleanup()`, which tests call in afterAll/finally, and which also runs when the process exits.
 *
 * Addresses come from the benchmarking range 198.18.0.0/15 (RFC 2544) and the ULA fd00:6b61::/32, inside namespaces
 * the test created: never a network outside this machine.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Gathering } from '../../src/gatherer';
import { parseSnapshotJson } from '../../src/snapshot-json';
import { removeTracefsInstancesScript } from './tracefs-instances';

export const REPO_ROOT = path.join(__dirname, '..', '..', '..');
export const COLLECTOR_CLI = path.join(REPO_ROOT, 'collector', 'dist', 'cli.js');

function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Why kernel tests cannot run here, or undefined when they can. */
export function kernelTestsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_SYS_ADMIN)';
  if (!hasCommand('ip')) return 'iproute2 is not installed';
  return undefined;
}

/** `describe` when kernel tests can run, else `describe.skip` with the reason printed once. */
export function describeKernel(name: string, body: () => void): void {
  const why = kernelTestsUnavailable();
  if (why) {
    // eslint-disable-next-line no-console
    console.warn(`skipping kernel tests "${name}": ${why}`);
    describe.skip(name, body);
  } else {
    describe(name, body);
  }
}

export function uniqueName(prefix = 'kt'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

/** Runs a command (with `env`, else this process's environment) and returns its stdout; throws with stderr on failure. */
export function run(command: string, args: readonly string[], input?: string, env?: NodeJS.ProcessEnv): string {
  const result: SpawnSyncReturns<string> = spawnSync(command, args as string[], {
    encoding: 'utf8',
    input,
    env,
    timeout: 60_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout}`,
    );
  }
  return result.stdout;
}

const created = { namespaces: new Set<string>(), processes: new Set<ChildProcess>() };

export class Namespace {
  private constructor(readonly name: string) {}

  static create(prefix = 'kt'): Namespace {
    const name = uniqueName(prefix);
    run('ip', ['netns', 'add', name]);
    created.namespaces.add(name);
    const ns = new Namespace(name);
    ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  /**
   * The tracefs instance a collector run in this namespace creates unless the test passes --tracefs-instance (a
   * snapshot alone: `<name>-snapshot`). Instances are global, shared by every namespace: with the default `kappie`, a
   * test's collector would replace the instance of a collector running on this host or in a test beside it.
   * cleanup() removes what such a collector left.
   */
  get tracefsInstance(): string {
    return this.name;
  }

  /** The environment of every command run here: this process's, and the namespace's own tracefs instance name. */
  private environment(): NodeJS.ProcessEnv {
    return { ...process.env, KAPPIE_TRACEFS_INSTANCE: this.tracefsInstance };
  }

  /** Runs a command inside the namespace (with /sys remounted for it by `ip netns exec`). */
  exec(command: string, ...args: string[]): string {
    return run('ip', ['netns', 'exec', this.name, command, ...args], undefined, this.environment());
  }

  ip(...args: string[]): string {
    return run('ip', ['-n', this.name, ...args]);
  }

  /**
   * Starts a long-running process inside the namespace; cleanup() kills it. A collector started here gathers at every
   * scrape (KAPPIE_SCRAPE_REUSE_WINDOW=0) and exports a counter series born above 0 at once (KAPPIE_NEW_SERIES_HOLD=0),
   * unless the test sets the variable or passes the flag: kernel tests compare scrapes taken a moment apart, around
   * the traffic they make (the hold itself is tested with a real Prometheus in series-birth.kernel.test.ts).
   */
  spawn(command: string, args: readonly string[]): ChildProcess {
    const env = {
      ...this.environment(),
      KAPPIE_SCRAPE_REUSE_WINDOW: process.env.KAPPIE_SCRAPE_REUSE_WINDOW ?? '0',
      KAPPIE_NEW_SERIES_HOLD: process.env.KAPPIE_NEW_SERIES_HOLD ?? '0',
    };
    const child = spawn('ip', ['netns', 'exec', this.name, command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    created.processes.add(child);
    child.once('exit', () => created.processes.delete(child));
    return child;
  }

  /** Runs the real collector once in this namespace (`kappie snapshot --json`) and returns its gathering. */
  snapshot(...flags: string[]): Gathering {
    return parseSnapshotJson(this.exec(process.execPath, COLLECTOR_CLI, 'snapshot', '--json', ...flags));
  }

  /** Fetches a URL from inside the namespace (e.g. the collector's /metrics on its loopback). */
  fetchText(url: string): string {
    return this.exec('curl', '-sS', '--fail', '--max-time', '20', url);
  }

  delete(): void {
    for (const child of created.processes) {
      if (child.spawnargs.includes(this.name)) child.kill('SIGKILL');
    }
    removeNamespace(this.name);
  }
}

export interface Link {
  readonly a: Namespace;
  readonly b: Namespace;
  /** Interface names on each side. */
  readonly aIf: string;
  readonly bIf: string;
  readonly aAddr4: string;
  readonly bAddr4: string;
  readonly aAddr6: string;
  readonly bAddr6: string;
}

let linkCounter = 0;

/**
 * Joins two namespaces with a veth pair, addresses on both ends (IPv4 and IPv6), and in `a` a default route via `b`
 * so `a`'s uplink is the veth (what kappie_forward_* follows by default).
 */
export function connect(a: Namespace, b: Namespace, options: { aIf?: string; bIf?: string } = {}): Link {
  linkCounter += 1;
  // 1 to 250: never 0, whose IPv6 group `fd00:6b61:0::` the kernel and the collector print as `fd00:6b61::` (a test
  // comparing the address text failed on one link in 250).
  const subnet = ((linkCounter * 7 + Number.parseInt(randomBytes(1).toString('hex'), 16)) % 250) + 1;
  const aIf = options.aIf ?? `eth${linkCounter}`;
  const bIf = options.bIf ?? `peer${linkCounter}`;
  const tmpA = uniqueName('va');
  const tmpB = uniqueName('vb');
  run('ip', ['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
  run('ip', ['link', 'set', tmpA, 'netns', a.name, 'name', aIf]);
  run('ip', ['link', 'set', tmpB, 'netns', b.name, 'name', bIf]);
  const link: Link = {
    a,
    b,
    aIf,
    bIf,
    aAddr4: `198.18.${subnet}.1`,
    bAddr4: `198.18.${subnet}.2`,
    aAddr6: `fd00:6b61:${subnet.toString(16)}::1`,
    bAddr6: `fd00:6b61:${subnet.toString(16)}::2`,
  };
  a.ip('addr', 'add', `${link.aAddr4}/24`, 'dev', aIf);
  b.ip('addr', 'add', `${link.bAddr4}/24`, 'dev', bIf);
  a.ip('-6', 'addr', 'add', `${link.aAddr6}/64`, 'dev', aIf, 'nodad');
  b.ip('-6', 'addr', 'add', `${link.bAddr6}/64`, 'dev', bIf, 'nodad');
  a.ip('link', 'set', aIf, 'up');
  b.ip('link', 'set', bIf, 'up');
  a.ip('route', 'add', 'default', 'via', link.bAddr4);
  a.ip('-6', 'route', 'add', 'default', 'via', link.bAddr6);
  return link;
}

/**
 * Deletes a namespace, first removing the tracefs instances its collectors create by default (Namespace
 * tracefsInstance) when a killed one left them.
 */
function removeNamespace(name: string): void {
  const instances = removeTracefsInstancesScript([name, `${name}-snapshot`]);
  spawnSync('ip', ['netns', 'exec', name, 'sh', '-c', instances], { stdio: 'ignore', timeout: 30_000 });
  spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  created.namespaces.delete(name);
}

/** Removes every namespace and process this module created. Safe to call any number of times. */
export function cleanup(): void {
  for (const child of created.processes) child.kill('SIGKILL');
  created.processes.clear();
  for (const name of [...created.namespaces]) removeNamespace(name);
}

process.once('exit', cleanup);

/** Waits until a child process prints a line matching `pattern` on stdout or stderr. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; output so far: ${seen}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        resolve(match[0]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before printing ${pattern}; output: ${seen}`));
    });
  });
}
