/**
 * Runs a Windows tool (vfpctrl, powershell) with an argument array, never through a shell, and returns its stdout.
 * A tool that is not installed makes the source unavailable with that reason; a tool that fails says how.
 */
import { execFile } from 'node:child_process';
import { SourceUnavailableError } from '../../errors';

/** Generous: vfpctrl answers in milliseconds, PowerShell needs a few hundred to start. */
const TIMEOUT_MS = 20_000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

/** How a source runs a tool: runTool, or in tests a function that prints recorded output. */
export type ToolRunner = (file: string, args: readonly string[]) => Promise<string>;

export function runTool(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          return reject(new SourceUnavailableError(`${file} is not installed or not on PATH`));
        }
        const detail = (stderr || stdout || error.message).trim().split(/\r?\n/)[0] ?? '';
        reject(new SourceUnavailableError(`${file} ${args.join(' ')} failed: ${detail.slice(0, 200)}`));
      },
    );
  });
}
