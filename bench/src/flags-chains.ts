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
 * Per-element counters instead of named counters: per direction a set `<direction>_flags` of all 256 flag bytes
 * declared with `counter`, looked up by the chain's counting rule (`tcp flags @egress_flags`); the lookup adds to the
 * matched element's own counter (Linux 5.11+: nft_lookup updates set element expressions), without the map's
 * object reference and the named counter it points to. The collector's maps and counters stay in the table, unused.
 */
export function elementCountersTableScript(plan: UplinkPlan): string {
  const elements = Array.from({ length: 256 }, (_, value) => `0x${value.toString(16).padStart(2, '0')}`).join(', ');
  const sets = NFT_DIRECTIONS.map(
    (direction) => `  set ${direction}_flags { type tcp_flag; size 256; counter; elements = { ${elements} } }`,
  );
  const base = tableWithChains(plan, (direction, key) =>
    plan.inet.map((name) => `${key} "${name}" tcp flags @${direction}_flags`),
  );
  return base.replace('\n  chain ingress {', `\n${sets.join('\n')}\n  chain ingress {`);
}
