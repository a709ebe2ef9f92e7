/**
 * The shared libraries a host binary loads, from `ldd` output, so the initramfs can carry the host's node, ip, nft
 * and setpriv with exactly what they need. Pure.
 */

/**
 * Absolute library paths in `ldd` output: `\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` and the loader
 * `\t/lib64/ld-linux-x86-64.so.2 (0x...)`; the vDSO has no file. Throws when a library is "not found".
 */
export function parseLdd(output: string, binary: string): string[] {
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || /not a dynamic executable|statically linked/.test(trimmed)) continue;
    if (trimmed.includes('=> not found'))
      throw new Error(`${binary} needs ${trimmed.split(' ')[0]}, which is not installed`);
    const arrow = /=>\s+(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(trimmed);
    const direct = /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(trimmed);
    const found = arrow?.[1] ?? direct?.[1];
    if (found) paths.push(found);
  }
  return paths;
}
