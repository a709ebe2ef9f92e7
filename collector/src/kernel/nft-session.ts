/**
 * A long-lived `nft -i` process: one netlink socket that lives as long as the collector, so the nftables tables it
 * creates with `flags owner` (Linux 5.12+, NFT_TABLE_F_OWNER) belong to it. The kernel refuses every change to an
 * owned table from any other socket (EPERM: another collector cannot replace or delete it; reading its counters
 * stays open to all), and removes the table itself when the owner socket closes: when the session is closed, and
 * also when the collector is killed (SIGKILL, OOM), since `nft` exits as soon as its stdin reaches end of file.
 *
 * Each script is written to a private temporary file and run with one `include` line (one line, one transaction).
 * `nft -i` prints nothing on success and its errors on stderr, so every command is followed by a marker: a listing
 * of a table that cannot exist, whose error, echoing the marker's name, ends that command's output on stderr. Where
 * nft cannot read the ruleset at all (without CAP_NET_ADMIN), it runs neither and echoes no marker: it prints
 * "cache initialization failed" instead, which fails the command and ends the session.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SourceUnavailableError } from '../errors';
import { NFT_COMMAND, NFT_NOT_FOUND, nftFailure } from './nft-command';

/** How long one script may take before the session is ended as hung. */
const COMMAND_TIMEOUT_MS = 15_000;
/** How long `close` waits for nft to exit after its stdin ended before killing it. */
const EXIT_TIMEOUT_MS = 5_000;

export interface NftSession {
  /**
   * Runs `script` (`nft -f` syntax) as one transaction on the session's socket. Resolves once nft has applied it;
   * rejects with nft's error (nft-command.ts' `nftFailure`: permission, a missing object, or nft's first line), or
   * when the session has ended (`ended` says why). Scripts run one at a time, in call order.
   */
  run(script: string): Promise<void>;
  /** Why the `nft` process is gone (its exit, or a failure to start it), or undefined while it runs. */
  readonly ended: string | undefined;
  /** Ends the session: nft exits, the kernel removes the tables it owned. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * nft's line when it could not read the ruleset before a command ("Operation not permitted" without CAP_NET_ADMIN in
 * the namespace): the command did not run, nor will any after it.
 */
const CACHE_FAILURE = /^netlink: Error: cache initialization failed: [^\n]*\n/m;

interface Pending {
  readonly marker: string;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * nft's error output for one command without what is not an error: the line editor's complaint about the terminal
 * (libedit/readline print "Cannot read termcap database; using dumb terminal settings." where no terminfo exists, as
 * in a minimal container or VM) and the "In file included from" lines that only say where the real error was.
 */
function withoutNoise(output: string): string {
  return output
    .split('\n')
    .filter(
      (line) =>
        !/^(Cannot read termcap database;|using dumb terminal settings\.|In file included from )/.test(line.trim()),
    )
    .join('\n')
    .trim();
}

/** Starts `nft -i`. Never throws: a missing binary makes every `run` reject with the reason. */
export function openNftSession(): NftSession {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-nft-'));
  const child: ChildProcess = spawn(NFT_COMMAND, ['-i'], {
    stdio: ['pipe', 'ignore', 'pipe'],
    // Its own process group: a terminal's Ctrl-C (SIGINT to the foreground group) must reach the collector only, which
    // then removes its table through this session; nft still ends with the collector (stdin closes: end of input).
    detached: true,
    env: { ...process.env, TERM: 'dumb' },
  });
  let stderr = '';
  let ended: string | undefined;
  let pending: Pending | undefined;
  let sequence = 0;
  let queue: Promise<void> = Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const end = (why: string) => {
    ended ??= why;
    pending?.reject(new Error(`nft session ended: ${why}`));
    pending = undefined;
  };
  child.once('error', (error: NodeJS.ErrnoException) => {
    end(error.code === 'ENOENT' ? NFT_NOT_FOUND : String(error));
  });
  child.once('close', (code, signal) => end(`nft exited (${signal ?? `code ${code}`})`));
  child.stdin?.on('error', () => undefined); // nft gone: its close event says why

  /** Takes one finished command's output off stderr once its marker's error (3 lines) has arrived. */
  const settle = () => {
    if (!pending) return;
    const echo = stderr.indexOf(`list table inet ${pending.marker}\n`);
    if (echo < 0) {
      const failure = CACHE_FAILURE.exec(stderr);
      if (failure === null) return;
      const { reject } = pending;
      pending = undefined;
      reject(nftFailure(['-i'], 'an error', withoutNoise(stderr)));
      end(`nft cannot read the ruleset (${failure[0].trim()})`);
      child.kill('SIGKILL');
      return;
    }
    const caretEnd = stderr.indexOf('\n', stderr.indexOf('\n', echo) + 1);
    if (caretEnd < 0) return;
    const before = stderr.slice(0, echo);
    const output = withoutNoise(before.slice(0, before.lastIndexOf('Error:')));
    stderr = stderr.slice(caretEnd + 1);
    const { resolve, reject } = pending;
    pending = undefined;
    if (output === '') resolve();
    else reject(nftFailure(['-i'], 'an error', output));
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    settle();
  });

  const runNow = (script: string) =>
    new Promise<void>((resolve, reject) => {
      if (ended !== undefined) {
        reject(new SourceUnavailableError(`nft session ended: ${ended}`));
        return;
      }
      sequence += 1;
      const file = path.join(directory, `script-${sequence}.nft`);
      fs.writeFileSync(file, script, { mode: 0o600 });
      const marker = `kappie-session-done-${process.pid}-${sequence}`;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        const said = stderr.split('\n').find((line) => line.trim() !== '');
        end(`nft did not answer within ${COMMAND_TIMEOUT_MS / 1000} s${said ? ` (it said: ${said.trim()})` : ''}`);
      }, COMMAND_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        fs.rmSync(file, { force: true });
      };
      pending = {
        marker,
        resolve: () => (done(), resolve()),
        reject: (error) => (done(), reject(error)),
      };
      child.stdin?.write(`include "${file}"\nlist table inet ${marker}\n`);
    });

  return {
    run(script) {
      const result = queue.then(() => runNow(script));
      queue = result.catch(() => undefined);
      return result;
    },
    get ended() {
      return ended;
    },
    async close() {
      await queue;
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) await exited;
      clearTimeout(timer);
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
