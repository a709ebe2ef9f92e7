/**
 * The nftables table `kappie` that counts TCP segments per flag byte and direction in the kernel (pure text
 * builders; nft-command.ts runs them).
 *
 * Per packet the cost is a few compares and ONE map lookup: the flag byte (`tcp flags`) indexes a map of all 256
 * values to named counters (`ingress_0x12`, ...). User space sums the 512 counters per flag (tcp-flag-bits.ts).
 *
 * Direction is relative to the node as a whole (host plus its pods), so every segment that crosses the node's edge
 * is counted exactly once:
 * - ingress = `prerouting` (priority raw, after defragmentation, before conntrack and any filter can drop it) of a
 *   segment that arrived on an interface that is neither loopback nor a pod-side interface (--pod-interfaces);
 * - egress = `postrouting` (priority 300, after NAT) of a segment leaving on such an interface.
 * Routed pod traffic therefore counts once: a pod's SYN to a remote peer is egress where it leaves the uplink, not
 * also ingress where it enters from the pod's veth. Pod<->pod and pod<->host-socket segments never reach a non-pod
 * interface and are not counted; neither is loopback. Inner TCP of overlays (vxlan, ipip, wireguard devices)
 * counts on the overlay device; the outer packet is UDP/IP-in-IP, so nothing counts twice.
 */
import { SourceUnavailableError } from '../../errors';
import { FLAG_BYTE_VALUES } from './tcp-flag-bits';

export const NFT_TABLE_FAMILY = 'inet';
/** Everything Kappie installs in the kernel is named `kappie`; this is the one spelling of the nftables table. */
export const NFT_TABLE_NAME = 'kappie';

export const NFT_DIRECTIONS = ['ingress', 'egress'] as const;
export type NftDirection = (typeof NFT_DIRECTIONS)[number];

/** The named counter of one direction and flag byte, e.g. `ingress_0x12`. */
export function flagCounterName(direction: NftDirection, flagByte: number): string {
  return `${direction}_0x${flagByte.toString(16).padStart(2, '0')}`;
}

const HOOK: Record<NftDirection, { hook: string; priority: number; interfaceKey: string; typeKey: string }> = {
  ingress: { hook: 'prerouting', priority: -300, interfaceKey: 'iifname', typeKey: 'iiftype' },
  egress: { hook: 'postrouting', priority: 300, interfaceKey: 'oifname', typeKey: 'oiftype' },
};

/**
 * Linux refuses interface names with whitespace, `/` or `:` (dev_valid_name), so a pattern containing one (the
 * Windows vNIC defaults of --pod-interfaces, "vEthernet (...)") can never match here and is left out.
 */
export function canMatchLinuxInterface(glob: string): boolean {
  return !/[\s/:]/.test(glob);
}

/**
 * nft matches interface names exactly or with ONE trailing `*`; the collector's globs also allow `?` and inner `*`.
 * A pattern nft cannot express makes the source unavailable rather than count the wrong interfaces.
 */
export function nftInterfacePattern(glob: string): string {
  const body = glob.endsWith('*') ? glob.slice(0, -1) : glob;
  if (body === '' || /[*?"\\]/.test(body) || Buffer.byteLength(body) > 15) {
    throw new SourceUnavailableError(
      `--pod-interfaces pattern "${glob}" cannot be matched by nftables (an interface name of up to 15 characters, ` +
        'optionally ending in one *)',
    );
  }
  return `"${glob}"`;
}

function chainText(direction: NftDirection, podInterfaceGlobs: readonly string[]): string[] {
  const { hook, priority, interfaceKey, typeKey } = HOOK[direction];
  const lines = [
    `  chain ${direction} {`,
    `    type filter hook ${hook} priority ${priority}; policy accept;`,
    // Non-TCP packets leave after one compare; the map rule would add this dependency itself, later.
    `    meta l4proto != tcp return`,
    `    meta ${typeKey} loopback return`,
  ];
  const linuxGlobs = podInterfaceGlobs.filter(canMatchLinuxInterface);
  if (linuxGlobs.length > 0) {
    lines.push(`    ${interfaceKey} { ${linuxGlobs.map(nftInterfacePattern).join(', ')} } return`);
  }
  lines.push(`    counter name tcp flags map @${direction}_by_flags`, '  }');
  return lines;
}

/**
 * The script for `nft -f -` that (re)creates the table in ONE transaction: declaring the table first makes the
 * `delete` succeed whether or not a crashed run left a stale table (nft 1.0.6 has no `destroy`), and the new table
 * replaces it atomically: no moment without counters, never two tables. `owned` adds `flags owner`: the table
 * belongs to the netlink socket that runs the script (nft-table-owner.ts).
 */
export function createTableScript(
  podInterfaceGlobs: readonly string[],
  tableName: string = NFT_TABLE_NAME,
  options: { owned: boolean } = { owned: false },
): string {
  const table = `${NFT_TABLE_FAMILY} ${tableName}`;
  const lines = [`table ${table} {}`, `delete table ${table}`, `table ${table} {`];
  if (options.owned) lines.push('  flags owner;');
  for (const direction of NFT_DIRECTIONS) {
    for (const value of FLAG_BYTE_VALUES) lines.push(`  counter ${flagCounterName(direction, value)} {}`);
  }
  for (const direction of NFT_DIRECTIONS) {
    const elements = FLAG_BYTE_VALUES.map(
      (value) => `0x${value.toString(16).padStart(2, '0')} : "${flagCounterName(direction, value)}"`,
    );
    lines.push(`  map ${direction}_by_flags {`, `    type tcp_flag : counter;`);
    lines.push(`    elements = { ${elements.join(', ')} }`, '  }');
  }
  for (const direction of NFT_DIRECTIONS) lines.push(...chainText(direction, podInterfaceGlobs));
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The script that removes the table if it exists and succeeds if it does not (safe to run twice). */
export function deleteTableScript(tableName: string = NFT_TABLE_NAME): string {
  const table = `${NFT_TABLE_FAMILY} ${tableName}`;
  return `table ${table} {}\ndelete table ${table}\n`;
}

/** Arguments of `nft` that print the table's counters as JSON. */
export function listCountersArgs(tableName: string = NFT_TABLE_NAME): string[] {
  return ['-j', 'list', 'counters', 'table', NFT_TABLE_FAMILY, tableName];
}
