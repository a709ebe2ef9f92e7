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

/**
 * Decodes what a Windows tool wrote to a pipe. PowerShell writes UTF-16LE when its output encoding is Unicode (with
 * the FF FE byte order mark, or without one), Windows PowerShell 5.1 and pwsh may put a UTF-8 BOM (EF BB BF) in
 * front, and vfpctrl writes ASCII. A BOM decides; without one, text with a NUL in at least 90% of its odd bytes in its first 512
 * bytes is UTF-16LE (ASCII-range text in UTF-16LE has a NUL after every character); anything else is UTF-8.
 */
export function decodeToolOutput(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return bytes.subarray(3).toString('utf8');
  }
  const sampleLength = Math.min(bytes.length, 512) & ~1;
  let nulAtOdd = 0;
  for (let i = 1; i < sampleLength; i += 2) if (bytes[i] === 0) nulAtOdd++;
  const pairs = sampleLength / 2;
  if (pairs > 0 && nulAtOdd >= pairs * 0.9) return bytes.subarray(0, bytes.length & ~1).toString('utf16le');
  return bytes.toString('utf8');
}

export function runTool(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true, encoding: 'buffer' },
      (error, stdoutBytes, stderrBytes) => {
        const stdout = decodeToolOutput(stdoutBytes);
        if (!error) return resolve(stdout);
        const stderr = decodeToolOutput(stderrBytes);
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
