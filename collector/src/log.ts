/** Structured JSON logs on stderr (stdout stays free for `kappie snapshot` output). */
import pino, { type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { app: 'kappie' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}

/** A logger that drops everything, for tests and one-shot tools that report errors themselves. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
