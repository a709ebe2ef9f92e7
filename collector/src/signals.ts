/** How the collector ends: every terminating signal runs the same cleanup (what `serve` and `snapshot` installed). */
import type { Logger } from './log';

/**
 * The signals that end the collector, each handled like SIGTERM: stop gathering and remove what the sources installed
 * in the kernel (tracefs instance, nftables table) before exiting. SIGHUP is among them: a closed terminal or a
 * supervisor's hangup must not leave kernel state behind. (SIGKILL cannot be handled: the next start replaces what
 * a killed run left.)
 */
export const TERMINATING_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const;

/**
 * Runs `stop(signal)` on the first terminating signal (`stop` exits the process when its cleanup is done). A second
 * signal while stopping exits at once with code 1: a cleanup that hangs must not make the process unkillable by Ctrl-C.
 */
export function onTerminatingSignals(log: Logger, stop: (why: string) => Promise<void>): void {
  let stopping = false;
  for (const signal of TERMINATING_SIGNALS) {
    process.on(signal, () => {
      if (stopping) {
        log.warn(`${signal} while stopping: exiting without finishing the cleanup`);
        process.exit(1);
      }
      stopping = true;
      void stop(signal);
    });
  }
}
