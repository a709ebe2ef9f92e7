/**
 * Runs the `nft` binary with an argument array (never a shell string), optionally feeding a script on stdin, and
 * turns its failures into reasons an operator can act on.
 */
import { spawn } from 'node:child_process';
import { SourceUnavailableError } from '../errors';

export const NFT_COMMAND = 'nft';
/** What a source says when there is no `nft` to run. */
export const NFT_NOT_FOUND = `${NFT_COMMAND} not found in PATH: install nftables (Debian package nftables)`;
const NFT_TIMEOUT_MS = 15_000;

/** The table (or another object) does not exist: nft says "No such file or directory". */
export class NftMissingObjectError extends Error {
  override readonly name = 'NftMissingObjectError';
}

/** Maps nft's stderr to an error: permission and absence get their own reasons, the rest keeps nft's first line. */
export function nftFailure(args: readonly string[], exit: string, stderr: string): Error {
  const firstLine = stderr.split('\n').find((line) => line.trim() !== '') ?? `exited with ${exit}`;
  if (/Operation not permitted/i.test(stderr)) {
    return new SourceUnavailableError(
      'nft: Operation not permitted: nftables counters need CAP_NET_ADMIN in the host network namespace ' +
        '(README "TCP flag counters")',
    );
  }
  if (/No such file or directory/i.test(stderr))
    return new NftMissingObjectError(`nft ${args.join(' ')}: ${firstLine}`);
  return new Error(`nft ${args.join(' ')} failed (${exit}): ${firstLine.trim()}`);
}

/** Runs nft and resolves with its stdout. */
export function runNft(args: readonly string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(NFT_COMMAND, args as string[], { stdio: ['pipe', 'pipe', 'pipe'], timeout: NFT_TIMEOUT_MS });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new SourceUnavailableError(NFT_NOT_FOUND) : error);
    });
    child.once('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else reject(nftFailure(args, signal ?? `code ${code}`, Buffer.concat(stderr).toString('utf8')));
    });
    child.stdin.on('error', () => undefined); // nft exiting early closes the pipe; its exit code says why
    child.stdin.end(stdin ?? '');
  });
}
