/**
 * The local ports with a TCP socket in LISTEN state, from /proc/net/tcp and /proc/net/tcp6 of the reading process's
 * own network namespace. `kappie snapshot` asks this before connecting to where `kappie serve` would listen: a
 * connection attempt to a closed port is itself counted by the kernel (Tcp AttemptFails, OutRsts, segments on lo), and a
 * snapshot must not change the counters it reports. Pure parser; the read is a thin wrapper.
 */
import * as fs from 'node:fs';
import { ParseError } from '../errors';

/** The kernel's TCP_LISTEN (include/net/tcp_states.h), as the tables print it. */
const LISTEN_STATE = '0A';

/**
 * The local ports in LISTEN state in one table's text (`sl local_address rem_address st ...`, addresses as
 * `HEXADDR:HEXPORT`). Throws ParseError naming the file and line for a line that is not a socket.
 */
export function listeningPorts(text: string, file: string): Set<number> {
  const ports = new Set<number>();
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (index === 0 || line.trim() === '') return; // The header.
    const fields = line.trim().split(/\s+/);
    const local = /^[0-9A-F]+:([0-9A-F]{4})$/.exec(fields[1] ?? '');
    const state = fields[3];
    if (!local || state === undefined || !/^[0-9A-F]{2}$/.test(state)) {
      throw new ParseError(file, `not a socket line: "${line}"`, index + 1);
    }
    if (state === LISTEN_STATE) ports.add(parseInt(local[1]!, 16));
  });
  return ports;
}

/**
 * Whether a TCP socket listens on `port` in this process's network namespace; undefined when the tables cannot be
 * read (not Linux, no procfs): the caller then has to try.
 */
export function isListening(port: number, procNet = '/proc/net'): boolean | undefined {
  let found = false;
  let readAny = false;
  for (const name of ['tcp', 'tcp6']) {
    const file = `${procNet}/${name}`;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue; // tcp6 is absent without IPv6.
    }
    readAny = true;
    if (listeningPorts(text, file).has(port)) found = true;
  }
  return readAny ? found : undefined;
}
