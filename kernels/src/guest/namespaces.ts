/**
 * The guest's test network: namespaces `a` and `b` joined by a veth pair (198.18.0.1 and 198.18.0.2, the RFC 2544
 * benchmarking range), a default route from `a` through `b`, and a traffic agent (agent.ts) in each. The whole VM
 * belongs to the suite, but traffic still stays in namespaces of its own, as on the host.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { AgentCommand } from './agent';

export const ADDRESS_A = '198.18.0.1';
export const ADDRESS_B = '198.18.0.2';
/** An address no namespace routes: b, forwarding, has no route for it. */
export const UNROUTED = '198.19.255.9';

/** Runs a command and returns stdout; throws with its stderr. */
export function run(command: string, ...args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')}: exit ${result.status ?? result.signal}: ${result.stderr || result.stdout}`,
    );
  }
  return result.stdout;
}

export function inNamespace(namespace: string, command: string, ...args: string[]): string {
  return run('ip', 'netns', 'exec', namespace, command, ...args);
}

/** A traffic agent in one namespace: send it a command, get its answer. */
export class Agent {
  private readonly pending: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  private exited: Error | undefined;
  private constructor(
    private readonly child: ChildProcess,
    namespace: string,
  ) {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => this.pending.shift()?.resolve(line));
    child.once('exit', (code, signal) => {
      this.exited = new Error(`the agent in namespace ${namespace} exited (${code ?? signal})`);
      for (const waiter of this.pending.splice(0)) waiter.reject(this.exited);
    });
  }

  /** Starts the agent and waits for it to say it is ready. */
  static start(namespace: string): Promise<Agent> {
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, path.join(__dirname, 'agent.js')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const agent = new Agent(child, namespace);
    return new Promise((resolve, reject) => agent.pending.push({ resolve: () => resolve(agent), reject }));
  }

  async send<T = Record<string, unknown>>(command: AgentCommand): Promise<T> {
    const line = await new Promise<string>((resolve, reject) => {
      if (this.exited) return reject(this.exited);
      this.pending.push({ resolve, reject });
      this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    });
    const answer = JSON.parse(line) as { ok?: T; error?: string };
    if (answer.error !== undefined) throw new Error(`agent ${command.op}: ${answer.error}`);
    return answer.ok!;
  }

  /** A file of the agent's namespace (/proc/net/* are per namespace). */
  async read(file: string): Promise<string> {
    return (await this.send<{ text: string }>({ op: 'read', file })).text;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

export interface TestNetwork {
  readonly a: Agent;
  readonly b: Agent;
}

export async function createTestNetwork(): Promise<TestNetwork> {
  for (const ns of ['a', 'b']) {
    run('ip', 'netns', 'add', ns);
    // No IPv6 on the test links: router solicitations and MLD reports would be traffic the tests did not send.
    inNamespace(ns, 'sh', '-c', 'for c in all default; do echo 1 > /proc/sys/net/ipv6/conf/$c/disable_ipv6; done');
  }
  run('ip', 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb');
  run('ip', 'link', 'set', 'va', 'netns', 'a');
  run('ip', 'link', 'set', 'vb', 'netns', 'b');
  for (const [ns, link, address] of [
    ['a', 'va', ADDRESS_A],
    ['b', 'vb', ADDRESS_B],
  ] as const) {
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    run('ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', link);
    run('ip', '-n', ns, 'link', 'set', link, 'up');
  }
  run('ip', '-n', 'a', 'route', 'add', 'default', 'via', ADDRESS_B);
  const [a, b] = await Promise.all([Agent.start('a'), Agent.start('b')]);
  return { a, b };
}

export function removeTestNetwork(network: TestNetwork | undefined): void {
  network?.a.stop();
  network?.b.stop();
  spawnSync('ip', ['netns', 'delete', 'a']);
  spawnSync('ip', ['netns', 'delete', 'b']);
}
