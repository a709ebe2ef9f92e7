/** `ethtool -S IFACE` output as name -> value, in the order ethtool printed them (driver order). */
export function parseEthtoolStatistics(text: string): Map<string, bigint> {
  const result = new Map<string, bigint>();
  for (const line of text.split('\n').slice(1)) {
    // "     name: value", the name exactly as the driver wrote it (it may hold spaces).
    const match = /^\s+(.+): (\d+)$/.exec(line);
    if (match) result.set(match[1]!, BigInt(match[2]!));
  }
  return result;
}
