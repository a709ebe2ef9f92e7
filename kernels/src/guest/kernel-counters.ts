/**
 * The kernel's own counters, read the way nstat reads them: /proc/net/snmp and /proc/net/netstat hold pairs of
 * lines, `Proto: Name Name...` then `Proto: value value...`. Pure. Written here, not taken from the collector, so
 * the suite checks the collector against an independent reading.
 */

/** Counters by `Proto.Name`, e.g. `Udp.NoPorts`, `TcpExt.ListenOverflows`, `IpExt.InNoRoutes`. */
export function parseCounterPairs(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.trim().split(/\s+/);
    const values = lines[i + 1]!.trim().split(/\s+/);
    if (names[0] !== values[0] || names.length !== values.length) {
      throw new Error(`counter lines do not pair: ${JSON.stringify(lines[i]!.slice(0, 40))}`);
    }
    const proto = names[0]!.replace(/:$/, '');
    for (let k = 1; k < names.length; k += 1) counters.set(`${proto}.${names[k]}`, Number(values[k]));
  }
  return counters;
}

/** Growth of each named counter between two readings (missing counters count as 0). */
export function growth(before: Map<string, number>, after: Map<string, number>, names: readonly string[]) {
  return Object.fromEntries(names.map((name) => [name, (after.get(name) ?? 0) - (before.get(name) ?? 0)]));
}
