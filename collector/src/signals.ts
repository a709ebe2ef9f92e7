/** How the collector ends: every terminating signal runs the same cleanup (what `serve` and `snapshot` installed). */
import * as os from 'node:os';
import type { Logger } from './log';

/**
 * The signals that end the collector, each handled like SIGTERM: stop gathering and remove what the sources installed
 * in the kernel (tracefs instance, nftables table) before exiting. SIGHUP is among them: a closed terminal or a
 * supervisor's hangup must not leave kernel state behind. (SIGKILL cannot be handled: the kernel removes the owned nft
 * table with the process, and the next start replaces the tracefs instance a killed run left.)
 */
export const TERMINATING_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const;
export type TerminatingSignal = (typeof TERMINATING_SIGNALS)[number];

/** The part of `process` the signal handling uses (a parameter, so its policy can be exercised without signals). */
export interface SignalTarget {
  on(signal: TerminatingSignal, listener: () => void): unknown;
  exit(code: number): void;
}

/**
 * Runs `stop(signal)` on the first terminating signal (`stop` exits the process when its cleanup is done).
 *
 * One Ctrl-C often arrives twice: under `npm start` the terminal signals the whole foreground process group and npm
 * forwards its own copy to the collector. So the first signal that arrives while stopping is ignored (logged at warn,
 * the cleanup goes on); the one after it (a second Ctrl-C, any other terminating signal) exits at once with code 1
 * without finishing the cleanup, so a cleanup that hangs never makes the process unkillable. SIGKILL also ends it.
 */
export function onTerminatingSignals(
  log: Logger,
  stop: (signal: TerminatingSignal) => Promise<void>,
  target: SignalTarget = process,
): void {
  let received = 0;
  for (const signal of TERMINATING_SIGNALS) {
    target.on(signal, () => {
      received += 1;
      if (received === 1) {
        void stop(signal);
      } else if (received === 2) {
        log.warn(
          { signal },
          `${signal} while stopping: ignored, the cleanup goes on (one Ctrl-C under npm start arrives twice: from ` +
            'the terminal and forwarded by npm); one more signal (or SIGKILL) exits at once without finishing it',
        );
      } else {
        log.warn(
          { signal },
          `${signal} while stopping, after one ignored: exiting without finishing the cleanup (the next start ` +
            'replaces a tracefs instance left behind; the kernel removes the owned nft table with this process)',
        );
        target.exit(1);
      }
    });
  }
}

/**
 * The exit code of a command that `signal` interrupted and that stopped on its own: 128 + the signal's number, as a
 * shell reports a command the signal ended (130 for SIGINT, 143 for SIGTERM), so scripts and `kubectl exec` tell an
 * interruption from a failure (1) and from a usage error (2).
 */
export function interruptedExitCode(signal: TerminatingSignal): number {
  return 128 + os.constants.signals[signal];
}

/** A terminating signal as a value that a command's own flow waits on and checks (see listenForInterruption). */
export interface Interruption {
  /** The first terminating signal received so far, or undefined. */
  signal(): TerminatingSignal | undefined;
  /** Resolves with that signal when it arrives (never rejects). */
  readonly received: Promise<TerminatingSignal>;
}

/**
 * For a command that stops itself when interrupted (`kappie snapshot`: stop counting, read what was counted, remove
 * its tracefs instance, say so) instead of exiting from the handler: the first terminating signal is recorded and
 * resolves `received`; the ones after it follow onTerminatingSignals (the next ignored, the one after exits with 1).
 */
export function listenForInterruption(log: Logger, target: SignalTarget = process): Interruption {
  let received: TerminatingSignal | undefined;
  const arrival = new Promise<TerminatingSignal>((resolve) => {
    onTerminatingSignals(
      log,
      async (signal) => {
        received = signal;
        resolve(signal);
      },
      target,
    );
  });
  return { signal: () => received, received: arrival };
}
