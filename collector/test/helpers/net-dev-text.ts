/** /proc/net/dev text for tests: the recorded header and interface lines of chosen counters. */
import { NETDEV_STATISTICS } from '../../src/kernel/net-dev';
import { fixture } from './fixtures';

/** One interface line, counters in file order. */
export function netdevLine(name: string, values: readonly (number | string)[]): string {
  return `${name.padStart(6)}: ${values.join(' ')}\n`;
}

/** The two header lines of a recorded /proc/net/dev. */
export const NETDEV_HEADER = fixture('linux/net/veth/dev').split('\n').slice(0, 2).join('\n') + '\n';

/** A whole /proc/net/dev with every counter of an interface set to the same value, for easy sums. */
export function netdevText(interfaces: Record<string, number>): string {
  return (
    NETDEV_HEADER +
    Object.entries(interfaces)
      .map(([name, value]) =>
        netdevLine(
          name,
          NETDEV_STATISTICS.map(() => value),
        ),
      )
      .join('')
  );
}
