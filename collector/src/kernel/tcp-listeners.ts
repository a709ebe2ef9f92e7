/**
 * Whether a TCP socket listens on a local port, from /proc/net/tcp and /proc/net/tcp6 of the reading process's own
 * network namespace. `kappie snapshot` asks this before connecting to where `kappie serve` would listen: a connection
 * attempt to a closed port is itself counted by the kernel (Tcp AttemptFails, OutRsts, segments on lo), and a
 * snapshot must not change the counters it reports. The tables are read and parsed by tcp-table.ts, as the
 * tcp_sockets source reads them, whose tally keeps every LISTEN socket's local port.
 */
import * as os from 'node:os';
import { createHostFs } from './host-fs';
import { newTcpSocketTally, tallyTcpTables } from './tcp-table';

/**
 * Whether a TCP socket listens on `port` in this process's network namespace (`procPath` the proc root, /proc by
 * default); undefined when the tables cannot be read or parsed (not Linux, no procfs): the caller then has to try.
 */
export function isListening(port: number, procPath = '/proc'): boolean | undefined {
  const tally = newTcpSocketTally(false);
  const hostFs = createHostFs({ procPath, sysPath: '/sys', tracefsPath: '/sys/kernel/tracing' });
  try {
    tallyTcpTables(hostFs, tally, os.endianness() === 'LE');
  } catch {
    return undefined;
  } finally {
    hostFs.close();
  }
  return tally.listeningPorts.has(port);
}
