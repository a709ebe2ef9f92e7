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
 *   after defragmentation, before conntrack) matching `iifname`, `postrouting` (priority 300, after NAT) matching
 *   `oifname`;
 * - an uplink that is a bridge port (Azure CNI bridge mode: `eth0` under `azure0`): table `bridge` of the same name,
 *   the bridge's `prerouting`/`postrouting` with the same tests, which see every frame entering or leaving the port,
 *   switched to a pod or passed up to the host.
 *
 * **The chains: one counting rule per uplink** (chainRules), e.g. `oifname "eth0" counter name tcp flags map
 * @egress_by_flags`, which nft compiles to: load the interface name, compare its 16 bytes inline (nft_cmp16_fast on
 * Linux 6.0+), compare the layer 4 protocol with TCP (the dependency nft adds itself before a `tcp` header load), load
 * the flag byte, look it up in the map and add to the counter. A node has one uplink, two with a bond or a VF, so a
 * segment pays one or two compares; a set lookup hashes the 16-byte name and cost ~120 ns per segment more than one
 * compare (bench `flags-rule-cost`, modes `ifset` against `ifcmp`). Above UPLINK_COMPARE_LIMIT uplinks one rule looks
 * the name up in the set `uplinks` instead. No explicit `meta l4proto != tcp return` first: a TCP segment, the traffic
 * counted, would pay that compare twice, and other packets leave at the counting rule's own protocol compare. No
 * uplinks: empty chains.
 *
 * **Every set and map declares its size** (FLAG_MAP_SIZE, UPLINK_SET_SIZE). The kernel chooses a set's backend once,
 * when the set is created (nft_select_set_ops in net/netfilter/nf_tables_api.c): with a size it takes the fixed-size
 * hash (nft_hash), without one the resizable rhashtable (nft_rhash), whose lookup costs more on the packet path: the
 * whole table cost ~60-95 ns more per counted segment with unsized maps, the set shape ~70 ns more (bench
 * `flags-rule-cost`, modes `unsized` against `kappie`; bench/RESULTS.md, eighth round). Sizes are limits too: a set
 * refuses elements beyond its size (ENFILE), so the uplink set's is far above what a node has, and more uplinks than
 * that are refused with an error that says so.
 *
 * Each table's set `uplinks` always holds its uplinks (read by the chains above the limit, by people always). When
 * the uplinks change, the set's elements and the chains' rules are replaced in ONE transaction (updateUplinksScript):
 * the named counters are table objects, so they keep counting; the bridge table exists only while some uplink is a
 * bridge port.
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
 * another name (tcp-flags.ts leaves it out and says so). A trailing `*` would make nft match every name with that
 * prefix (its wildcard): it is escaped (`\*`), which nft reads as the character itself, in a compare and in a set
 * element alike.
 */
export function nftInterfaceName(name: string): string {
  if (name === '' || /["\\]/.test(name) || Buffer.byteLength(name) > 15) {
    throw new SourceUnavailableError(
      `uplink "${name}" cannot be matched by nftables (an interface name of 1 to 15 UTF-8 bytes without " or \\, ` +
        'control characters or other bytes)',
    );
  }
  return `"${name.endsWith('*') ? `${name.slice(0, -1)}\\*` : name}"`;
}

/** The size of each flag map: one element per flag byte value (256). */
const FLAG_MAP_SIZE = FLAG_BYTE_VALUES.length;

/**
 * The size of each table's `uplinks` set: the most uplinks a table counts on. A node has one to a few; the limit is
 * there because a sized set is a faster one (see the file comment), and costs the kernel 16 KiB of bucket heads
 * (nft_hash: the size times 4/3 rounded up to a power of two, 2048 heads of 8 bytes) whatever the set holds.
 */
export const UPLINK_SET_SIZE = 1024;

/**
 * The uplinks as the elements of the `uplinks` set (`"eth0", "bond0"`). Throws a SourceUnavailableError for more
 * than UPLINK_SET_SIZE uplinks (the kernel would refuse them with ENFILE, "Too many open files in system") and
 * nftInterfaceName's for a name nft cannot hold.
 */
function uplinkElements(names: readonly string[]): string {
  if (names.length > UPLINK_SET_SIZE) {
    throw new SourceUnavailableError(
      `${names.length} uplinks: the flag table counts on at most ${UPLINK_SET_SIZE}; narrow them with ` +
        "--uplink-interfaces (names or globs that match only the node's uplinks)",
    );
  }
  return names.map(nftInterfaceName).join(', ');
}

function setElements(names: readonly string[]): string {
  return names.length === 0 ? '' : ` elements = { ${uplinkElements(names)} };`;
}

/**
 * Up to this many uplinks in a table, each chain compares the interface name inline, one rule per uplink; above it,
 * one rule looks the name up in the set `uplinks`. A segment passes every rule of its chain: each rule beyond the
 * first cost ~15-25 ns, the set lookup 55-125 ns more than one compare (bench `flags-rule-cost`, 2026-11-30, two runs
 * on a loaded machine, ns per segment and chain: one uplink 476/530, 2 compares 523/544, 4 compares 502/579,
 * 8 compares 654/649, the set 596/586): 4 compares cost at most what the set costs, 8 clearly more.
 */
export const UPLINK_COMPARE_LIMIT = 4;

/** The counting statement of a chain: the flag byte indexes the direction's map of named counters. */
function countingStatement(direction: NftDirection): string {
  return `counter name tcp flags map @${direction}_by_flags`;
}

/**
 * The rules of chain `direction` counting on `uplinks` (without indentation): one `<iifname|oifname> "<uplink>"
 * counting` rule per uplink up to UPLINK_COMPARE_LIMIT, else one `<iifname|oifname> @uplinks counting` rule; none
 * without uplinks. Throws nftInterfaceName's SourceUnavailableError for a name nft cannot hold.
 */
export function chainRules(direction: NftDirection, uplinks: readonly string[]): string[] {
  const { interfaceKey } = HOOK[direction];
  const counting = countingStatement(direction);
  if (uplinks.length > UPLINK_COMPARE_LIMIT) return [`${interfaceKey} @uplinks ${counting}`];
  return uplinks.map((name) => `${interfaceKey} ${nftInterfaceName(name)} ${counting}`);
}

function chainText(direction: NftDirection, uplinks: readonly string[]): string[] {
  const { hook, priority } = HOOK[direction];
  return [
    `  chain ${direction} {`,
    `    type filter hook ${hook} priority ${priority}; policy accept;`,
    ...chainRules(direction, uplinks).map((rule) => `    ${rule}`),
    '  }',
  ];
}

/**
 * One table of `family` with its 512 counters, two maps, the `uplinks` set (each sized) and both chains, replacing a
 * stale one.
 */
function tableText(family: NftFamily, tableName: string, uplinks: readonly string[], owned: boolean): string[] {
  const table = `${family} ${tableName}`;
  const lines = [`table ${table} {}`, `delete table ${table}`, `table ${table} {`];
  if (owned) lines.push('  flags owner;');
  lines.push(`  set uplinks { type ifname; size ${UPLINK_SET_SIZE};${setElements(uplinks)} }`);
  for (const direction of NFT_DIRECTIONS) {
    for (const value of FLAG_BYTE_VALUES) lines.push(`  counter ${flagCounterName(direction, value)} {}`);
  }
  for (const direction of NFT_DIRECTIONS) {
    const elements = FLAG_BYTE_VALUES.map(
      (value) => `0x${value.toString(16).padStart(2, '0')} : "${flagCounterName(direction, value)}"`,
    );
    lines.push(`  map ${direction}_by_flags {`, `    type tcp_flag : counter; size ${FLAG_MAP_SIZE};`);
    lines.push(`    elements = { ${elements.join(', ')} }`, '  }');
  }
  for (const direction of NFT_DIRECTIONS) lines.push(...chainText(direction, uplinks));
  lines.push('}');
  return lines;
}

/**
 * The script for `nft -f -` that (re)creates the tables of `families` in ONE transaction: declaring a table first
 * makes the `delete` succeed whether or not a crashed run left a stale one (nft 1.0.6 has no `destroy`), and the new
 * table replaces it atomically: no moment without counters, never two tables. `owned` adds `flags owner`: each table
 * belongs to the netlink socket that runs the script (nft-table-owner.ts). Throws a SourceUnavailableError for more
 * than UPLINK_SET_SIZE uplinks in a table or a name nft cannot hold (nftInterfaceName).
 */
export function createTableScript(
  plan: UplinkPlan,
  tableName: string = NFT_TABLE_NAME,
  families: readonly NftFamily[] = ['inet'],
  options: { owned: boolean } = { owned: false },
): string {
  return `${families.flatMap((family) => tableText(family, tableName, plan[family], options.owned)).join('\n')}\n`;
}

/**
 * The script that makes table `family tableName` count on `uplinks`: the elements of its set `uplinks` and the rules
 * of both chains (chainRules) replaced, in one transaction when run as one script (`nft -f`, or one `include` of the
 * collector's nft session): no packet sees a half-changed table, and the named counters, table objects that no rule
 * owns, keep their values. Throws like createTableScript.
 */
export function updateUplinksScript(family: NftFamily, uplinks: readonly string[], tableName = NFT_TABLE_NAME): string {
  const table = `${family} ${tableName}`;
  const lines = [`flush set ${table} uplinks`];
  if (uplinks.length > 0) lines.push(`add element ${table} uplinks { ${uplinkElements(uplinks)} }`);
  for (const direction of NFT_DIRECTIONS) {
    lines.push(`flush chain ${table} ${direction}`);
    for (const rule of chainRules(direction, uplinks)) lines.push(`add rule ${table} ${direction} ${rule}`);
  }
  return `${lines.join('\n')}\n`;
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
