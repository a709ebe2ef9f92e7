/**
 * The nftables tables that count TCP segments per flag byte and direction in the kernel (pure text builders;
 * nft-command.ts runs them).
 *
 * Per packet the cost is a few compares and ONE map lookup: the flag byte (`tcp flags`) indexes a map of all 256
 * values to named counters (`ingress_0x12`, ...). User space sums the 512 counters per flag (tcp-flag-bits.ts).
 *
 * **What is counted: each segment once per crossing of the node's edge, whatever the CNI.** The edge is the node's
 * uplinks, the same interfaces kappie_forward_* counts (uplinks.ts, link-roles.ts: the default-route holders resolved
 * to the devices every crossing packet passes once). ingress = a segment received by an uplink, egress = a segment
 * sent by one: what `tcpdump -i <uplink>` sees, before any filter of the node can drop it. Pod<->pod, pod<->host and
 * loopback segments never pass an uplink and are not counted; neither are the legs of a forwarded segment on a pod's
 * veth or on a bridge in front of pods (kubenet `cbr0`), which counted a pod's SYN twice when the rule was "not a pod
 * interface".
 *
 * Where the uplink sits decides the hook, because the IP hooks see a bridge's ports only as the bridge:
 * - a routed uplink (the usual `eth0`, a bond, hv_netvsc over its VF): table `inet`, `prerouting` (priority -300,
 *   after defragmentation, before conntrack) with `iifname @uplinks`, `postrouting` (priority 300, after NAT) with
 *   `oifname @uplinks`;
 * - an uplink that is a bridge port (Azure CNI bridge mode: `eth0` under `azure0`): table `bridge` of the same name,
 *   the bridge's `prerouting`/`postrouting` with the same tests, which see every frame entering or leaving the port,
 *   switched to a pod or passed up to the host.
 * The set `uplinks` of each table is updated in place when the uplinks change (counters keep counting); the bridge
 * table exists only while some uplink is a bridge port.
 */
import { SourceUnavailableError } from '../../errors';
import { FLAG_BYTE_VALUES } from './tcp-flag-bits';

/** The family of the table that always exists (routed uplinks); see NFT_FAMILIES. */
export const NFT_TABLE_FAMILY = 'inet';
/** Everything Kappie installs in the kernel is named `kappie`; this is the one spelling of the nftables table. */
export const NFT_TABLE_NAME = 'kappie';

export const NFT_DIRECTIONS = ['ingress', 'egress'] as const;
export type NftDirection = (typeof NFT_DIRECTIONS)[number];

/** The named counter of one direction and flag byte, e.g. `ingress_0x12`. */
export function flagCounterName(direction: NftDirection, flagByte: number): string {
  return `${direction}_0x${flagByte.toString(16).padStart(2, '0')}`;
}

/** The table families the counters live in: `inet` for routed uplinks, `bridge` for uplinks that are bridge ports. */
export const NFT_FAMILIES = ['inet', 'bridge'] as const;
export type NftFamily = (typeof NFT_FAMILIES)[number];

/** The uplinks each table matches: routed ones in `inet`, bridge ports in `bridge`. */
export type UplinkPlan = Readonly<Record<NftFamily, readonly string[]>>;

const HOOK: Record<NftDirection, { hook: string; priority: number; interfaceKey: string }> = {
  ingress: { hook: 'prerouting', priority: -300, interfaceKey: 'iifname' },
  egress: { hook: 'postrouting', priority: 300, interfaceKey: 'oifname' },
};

/**
 * An interface name (its label, kernel/interface-name.ts) as an nft string. Linux refuses names with whitespace, `/`
 * or `:` (dev_valid_name) but allows `"`, `\`, control characters and bytes that are not UTF-8, which an nft string
 * cannot hold (the label writes the last three with a backslash): such an uplink is refused rather than matched as
 * another name (tcp-flags.ts leaves it out and says so).
 */
export function nftInterfaceName(name: string): string {
  if (name === '' || /["\\]/.test(name) || Buffer.byteLength(name) > 15) {
    throw new SourceUnavailableError(
      `uplink "${name}" cannot be matched by nftables (an interface name of 1 to 15 UTF-8 bytes without " or \\, ` +
        'control characters or other bytes)',
    );
  }
  return `"${name}"`;
}

function setElements(names: readonly string[]): string {
  return names.length === 0 ? '' : ` elements = { ${names.map(nftInterfaceName).join(', ')} };`;
}

function chainText(direction: NftDirection): string[] {
  const { hook, priority, interfaceKey } = HOOK[direction];
  return [
    `  chain ${direction} {`,
    `    type filter hook ${hook} priority ${priority}; policy accept;`,
    // Non-TCP packets leave after one compare; the map rule would add this dependency itself, later.
    `    meta l4proto != tcp return`,
    `    ${interfaceKey} != @uplinks return`,
    `    counter name tcp flags map @${direction}_by_flags`,
    '  }',
  ];
}

/** One table of `family` with its 512 counters, two maps, the `uplinks` set and both chains, replacing a stale one. */
function tableText(family: NftFamily, tableName: string, uplinks: readonly string[], owned: boolean): string[] {
  const table = `${family} ${tableName}`;
  const lines = [`table ${table} {}`, `delete table ${table}`, `table ${table} {`];
  if (owned) lines.push('  flags owner;');
  lines.push(`  set uplinks { type ifname;${setElements(uplinks)} }`);
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
  for (const direction of NFT_DIRECTIONS) lines.push(...chainText(direction));
  lines.push('}');
  return lines;
}

/**
 * The script for `nft -f -` that (re)creates the tables of `families` in ONE transaction: declaring a table first
 * makes the `delete` succeed whether or not a crashed run left a stale one (nft 1.0.6 has no `destroy`), and the new
 * table replaces it atomically: no moment without counters, never two tables. `owned` adds `flags owner`: each table
 * belongs to the netlink socket that runs the script (nft-table-owner.ts).
 */
export function createTableScript(
  plan: UplinkPlan,
  tableName: string = NFT_TABLE_NAME,
  families: readonly NftFamily[] = ['inet'],
  options: { owned: boolean } = { owned: false },
): string {
  return `${families.flatMap((family) => tableText(family, tableName, plan[family], options.owned)).join('\n')}\n`;
}

/** The script that replaces the elements of the `uplinks` set of table `family tableName` (counters untouched). */
export function updateUplinksScript(family: NftFamily, uplinks: readonly string[], tableName = NFT_TABLE_NAME): string {
  const set = `${family} ${tableName} uplinks`;
  const add = uplinks.length === 0 ? '' : `add element ${set} { ${uplinks.map(nftInterfaceName).join(', ')} }\n`;
  return `flush set ${set}\n${add}`;
}

/** The script that removes the tables of `families` if they exist and succeeds if they do not (safe to run twice). */
export function deleteTableScript(
  tableName: string = NFT_TABLE_NAME,
  families: readonly NftFamily[] = ['inet'],
): string {
  return families.map((family) => `table ${family} ${tableName} {}\ndelete table ${family} ${tableName}\n`).join('');
}

/** Arguments of `nft` that print the table's counters as JSON. */
export function listCountersArgs(tableName: string = NFT_TABLE_NAME, family: NftFamily = NFT_TABLE_FAMILY): string[] {
  return ['-j', 'list', 'counters', 'table', family, tableName];
}
