/** Errors that say what went wrong and what to do, so a log line or an exit message is enough for the operator. */

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
    readonly option: string,
    detail: string,
  ) {
    super(`${option}: ${detail}`);
  }
}

/** A short, human reason for an error of any kind, for logs and the status page. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `missing: ${(error as NodeJS.ErrnoException).path ?? error.message}`;
    if (code === 'EACCES' || code === 'EPERM')
      return `permission denied: ${(error as NodeJS.ErrnoException).path ?? error.message} (run as root or grant the capability the README names)`;
    return error.message;
  }
  return String(error);
}
