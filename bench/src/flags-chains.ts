/**
 * Variants of the collector's TCP flag table for the datapath benchmarks (flags-rule-cost.ts, flags-datapath.ts): the
 * collector's own table (createTableScript: its counters, maps and `uplinks` set) with each chain's rules replaced,
 * so that only the rules differ between modes.
 */
import { createTableScript, NFT_DIRECTIONS, type NftDirection, type UplinkPlan } from '@kappie/collector';

/** Builds one chain's rules from its direction and interface key (`iifname` for ingress, `oifname` for egress). */
export type ChainRules = (direction: NftDirection, interfaceKey: 'iifname' | 'oifname') => readonly string[];

/** The counting statement of a chain: the flag byte indexes the direction's map of named counters. */
export function countingStatement(direction: NftDirection): string {
  return `counter name tcp flags map @${direction}_by_flags`;
}

/**
 * The chain of the collector before the inline compares (up to 2026-11-30): an explicit protocol check, the `uplinks`
 * set lookup as an early return, the counting rule (whose `tcp flags` repeats the protocol check implicitly).
 */
export const PREVIOUS_CHAIN: ChainRules = (direction, interfaceKey) => [
  'meta l4proto != tcp return',
  `${interfaceKey} != @uplinks return`,
  countingStatement(direction),
];

/** The collector's table before the inline compares (up to 2026-11-30): PREVIOUS_CHAIN in both chains, no sizes. */
export function previousTableScript(plan: UplinkPlan): string {
  return withoutSizes(tableWithChains(plan, PREVIOUS_CHAIN));
}

/** The collector's table for `plan` with each chain's rules replaced by `rules` (chain headers, objects unchanged). */
export function tableWithChains(plan: UplinkPlan, rules: ChainRules): string {
  const output: string[] = [];
  let skipping = false;
  for (const line of createTableScript(plan).split('\n')) {
    const header = /^\s+type filter hook (prerouting|postrouting) /.exec(line);
    if (header) {
      output.push(line);
      const direction: NftDirection = header[1] === 'prerouting' ? 'ingress' : 'egress';
      const key = direction === 'ingress' ? 'iifname' : 'oifname';
      output.push(...rules(direction, key).map((rule) => `    ${rule}`));
      skipping = true;
    } else if (skipping && /^\s{2}\}$/.test(line)) {
      output.push(line);
      skipping = false;
    } else if (!skipping) {
      output.push(line);
    }
  }
  return output.join('\n');
}

/**
 * `script` with the size declarations of its sets and maps removed: the collector's table before it sized them (up to
 * 2026-11-30). Without a size the kernel backs a named set or map with its resizable rhashtable (nft_rhash) instead
 * of the fixed-size hash (nft_hash).
 */
export function withoutSizes(script: string): string {
  return script.replaceAll(/ size \d+;/g, '');
}

/**
 * How a table with per-element counters looks the flag byte up: `elements` (`tcp flags` in a set of the 256 flag
 * bytes, after the chain's name compare), `concat` (`meta l4proto . @th,104,8`, protocol and byte 13 of the transport
 * header in one key: no separate protocol compare; after the name compare) and `concat3` (`oifname . meta l4proto .
 * @th,104,8`: name, protocol and flag byte in one key, 256 elements per uplink, no compare at all).
 */
export type ElementCounterShape = 'elements' | 'concat' | 'concat3';

const ELEMENT_SHAPES: Record<
  ElementCounterShape,
  {
    typeOf: (key: string) => string;
    element: (name: string, hex: string) => string;
    rule: (key: string, name: string, set: string) => string;
  }
> = {
  elements: {
    typeOf: () => 'type tcp_flag',
    element: (_name, hex) => hex,
    rule: (key, name, set) => `${key} "${name}" tcp flags @${set}`,
  },
  concat: {
    typeOf: () => 'typeof meta l4proto . @th,104,8',
    element: (_name, hex) => `6 . ${hex}`,
    rule: (key, name, set) => `${key} "${name}" meta l4proto . @th,104,8 @${set}`,
  },
  concat3: {
    typeOf: (key) => `typeof ${key} . meta l4proto . @th,104,8`,
    element: (name, hex) => `"${name}" . 6 . ${hex}`,
    rule: (key, _name, set) => `${key} . meta l4proto . @th,104,8 @${set}`,
  },
};

/**
 * Per-element counters instead of named counters: per direction a set `<direction>_flags` keyed as `shape` says
 * (ElementCounterShape), declared with `counter`, looked up by the chain's counting rule; the lookup adds to the
 * matched element's own counter (Linux 5.11+: nft_lookup updates set element expressions), without the map's object
 * reference and the named counter it points to. The collector's maps and counters stay in the table, unused.
 */
export function elementCountersTableScript(plan: UplinkPlan, shape: ElementCounterShape = 'elements'): string {
  const { typeOf, element, rule } = ELEMENT_SHAPES[shape];
  const hexes = Array.from({ length: 256 }, (_, value) => `0x${value.toString(16).padStart(2, '0')}`);
  const sets = NFT_DIRECTIONS.map((direction) => {
    const key = direction === 'ingress' ? 'iifname' : 'oifname';
    const elements = plan.inet.flatMap((name) => hexes.map((hex) => element(name, hex))).join(', ');
    return `  set ${direction}_flags { ${typeOf(key)}; size ${256 * Math.max(1, plan.inet.length)}; counter; elements = { ${elements} } }`;
  });
  const base = tableWithChains(plan, (direction, key) =>
    shape === 'concat3'
      ? [rule(key, '', `${direction}_flags`)]
      : plan.inet.map((name) => rule(key, name, `${direction}_flags`)),
  );
  return base.replace('\n  chain ingress {', `\n${sets.join('\n')}\n  chain ingress {`);
}

/**
 * The collector's counters and maps in a `netdev` table whose chains hook the uplinks themselves (`hook ingress` and,
 * Linux 5.16+, `hook egress`, `devices = { ... }`): only the uplinks' packets pass a chain, so no interface-name test
 * is needed, and traffic between pods and the node never enters one. `rules` gives each chain's rules (the counting
 * statement alone, or none for the hook's own cost).
 */
export function netdevTableScript(plan: UplinkPlan, rules: 'count' | 'hook'): string {
  const devices = plan.inet.map((name) => `"${name}"`).join(', ');
  let direction: NftDirection | undefined;
  const output: string[] = ['table netdev kappie {}', 'delete table netdev kappie'];
  for (const line of createTableScript(plan).split('\n')) {
    if (/^table inet kappie \{\}$|^delete table inet kappie$|^\s+set uplinks /.test(line)) continue;
    const header = /^\s+type filter hook (prerouting|postrouting) priority (-?\d+);/.exec(line);
    if (header) {
      direction = header[1] === 'prerouting' ? 'ingress' : 'egress';
      output.push(`    type filter hook ${direction} devices = { ${devices} } priority ${header[2]}; policy accept;`);
      if (rules === 'count') output.push(`    ${countingStatement(direction)}`);
    } else if (direction && /^\s{2}\}$/.test(line)) {
      output.push(line);
      direction = undefined;
    } else if (!direction) {
      output.push(line.replace('table inet kappie {', 'table netdev kappie {'));
    }
  }
  return output.join('\n');
}
