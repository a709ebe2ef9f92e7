/** How the collector ends: every terminating signal runs the same cleanup (what `serve` and `snapshot` installed). */
import type { Logger } from './log';

/**
 * The signals that end the collector, each handled like SIGTERM: stop gathering and remove what the sources installed
 * in the kernel (tracefs instance, nftables table) before exiting. SIGHUP is among them: a closed terminal or a
 * supervisor's hangup must not leave kernel state behind. (SIGKILL cannot be handled: the kernel removes the owned nft
 * table with the process, and the next start replaces the tracefs instance a killed run left.)
 */
export const TERMINATING_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const;

/** The part of `process` the signal handling uses (a parameter, so its policy can be exercised without signals). */
export interface SignalTarget {
  on(signal: (typeof TERMINATING_SIGNALS)[number], listener: () => void): unknown;
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
  stop: (why: string) => Promise<void>,
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
