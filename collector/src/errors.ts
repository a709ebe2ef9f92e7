/** Errors that say what went wrong and what to do, so a log line or an exit message is enough for the operator. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A parser met input it does not understand. Names the file and the line, never guesses a number. */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly lineNumber?: number,
  ) {
    super(`${file}${lineNumber === undefined ? '' : `:${lineNumber}`}: ${detail}`);
  }
}

/**
 * The facility a source needs is not there (missing file, no permission, kernel without the feature, not root).
 * The source is reported down with this message; the rest of the scrape carries on.
 */
export class SourceUnavailableError extends Error {
  override readonly name = 'SourceUnavailableError';
}

/** A configuration value the collector cannot run with. The CLI prints it on one line and exits with code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The flag or environment variable holding the bad value, as the user wrote it. */
    readonly option: string,
    /** What is wrong with the value and what is accepted. */
    readonly detail: string,
  ) {
    super(`${option}: ${detail}`);
  }

  /** The same error naming `option` instead (the environment variable the user set rather than the flag). */
  naming(option: string): ConfigError {
    return new ConfigError(option, this.detail);
  }
}

/**
 * A command that a terminating signal interrupted stopped on its own (its cleanup done): the CLI prints `message`, what
 * it did and did not do, on one line and exits with `exitCode` (signals.ts, interruptedExitCode: 130 for SIGINT).
 */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor(
    readonly signal: string,
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Who may open `file`: its owner and mode, or those of its nearest existing parent directory (creating a file needs
 * the directory). Undefined when nothing on the path can be read.
 */
function ownership(file: string): string | undefined {
  for (let current = path.resolve(file); ; current = path.dirname(current)) {
    try {
      const stats = fs.statSync(current);
      return `${current} belongs to uid ${stats.uid} with mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}`;
    } catch {
      if (path.dirname(current) === current) return undefined;
    }
  }
}

/**
 * What to do about a refused file access. File permissions are decided by uid, not by a capability the collector
 * could be granted: tracefs and most of /proc and /sys belong to uid 0, so the remedy is to run as that uid (the
 * README's deployment runs as uid 0 for this reason).
 */
function permissionAdvice(file: string | undefined): string {
  const who = file === undefined ? undefined : ownership(file);
  const uid = process.getuid?.();
  const self = uid === undefined ? '' : `, and the collector runs as uid ${uid}`;
  return who ? `${who}${self}: run the collector as that uid (root for tracefs)` : 'run the collector as root';
}

/** A short, human reason for an error of any kind, for logs and the status page. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const { code, path: file } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') return `missing: ${file ?? error.message}`;
    if (code === 'EACCES') return `permission denied: ${file ?? error.message} (${permissionAdvice(file)})`;
    if (code === 'EPERM') {
      return `operation not permitted: ${file ?? error.message} (needs root; the README names what each source needs)`;
    }
    return error.message;
  }
  return String(error);
}
