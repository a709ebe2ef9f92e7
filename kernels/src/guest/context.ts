/**
 * What the guest tests share: the test network, the collector currently running, the nftables rules whose
 * counters are the kernel's own account of the packets dropped, and what was learnt about the kernel.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { VmConfig } from '../initramfs';
import type { KernelFacts } from '../report';
import type { RunningCollector } from './collector';
import { parseCounterPairs } from './kernel-counters';
import { inNamespace, type Agent, type TestNetwork } from './namespaces';

export const TRACEFS = '/sys/kernel/tracing';
/** Table of the test's own rules, in namespace b. */
export const RULES_TABLE = 'ktvm';
export const PORT_NFT_INGRESS = 7777;
export const PORT_NFT_EGRESS = 7779;
export const PORT_CLOSED = 9;
export const PORT_LISTEN = 7000;

export interface SuiteContext {
  readonly config: VmConfig;
  readonly network: TestNetwork;
  collector: RunningCollector | undefined;
  /** Learnt as the tests go (read by the report at the end). */
  facts: { -readonly [K in keyof KernelFacts]?: KernelFacts[K] };
}

/** The test's rules in b: drops on input and output, and a plain counter of what reaches the closed port. */
export function installRules(): void {
  const script = [
    `table inet ${RULES_TABLE} {`,
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    `    udp dport ${PORT_NFT_INGRESS} counter drop comment "drop-in"`,
    `    udp dport ${PORT_CLOSED} counter comment "closed-udp"`,
    '  }',
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    `    udp dport ${PORT_NFT_EGRESS} counter drop comment "drop-out"`,
    '  }',
    '}',
  ].join('\n');
  fs.writeFileSync('/tmp/rules.nft', `${script}\n`);
  inNamespace('b', 'nft', '-f', '/tmp/rules.nft');
}

/** Packets and bytes of the rule commented `comment` in b's rules table (nft's JSON output). */
export function ruleCounter(comment: string): { packets: number; bytes: number } {
  const json = JSON.parse(inNamespace('b', 'nft', '-j', 'list', 'table', 'inet', RULES_TABLE)) as {
    nftables: { rule?: { comment?: string; expr: { counter?: { packets: number; bytes: number } }[] } }[];
  };
  const rule = json.nftables.find((item) => item.rule?.comment === comment)?.rule;
  const counter = rule?.expr.find((e) => e.counter)?.counter;
  assert.ok(counter, `no counter on rule "${comment}"`);
  return counter;
}

/** /proc/net/snmp and /proc/net/netstat of the agent's namespace, as `Proto.Name` counters. */
export async function kernelCounters(agent: Agent): Promise<Map<string, number>> {
  const [snmp, netstat] = await Promise.all([agent.read('/proc/net/snmp'), agent.read('/proc/net/netstat')]);
  return new Map([...parseCounterPairs(snmp), ...parseCounterPairs(netstat)]);
}

export function requireCollector(context: SuiteContext): RunningCollector {
  assert.ok(context.collector, 'no collector is running (an earlier test failed to start it)');
  return context.collector;
}

/** The kfree_skb drop reason names of the running kernel's print table (without its MAX end marker). */
export function reasonNames(): string[] {
  const format = fs.readFileSync(`${TRACEFS}/events/skb/kfree_skb/format`, 'latin1');
  return [...format.matchAll(/\{\s*-?(?:0x[0-9a-f]+|\d+),\s*"([A-Z0-9_]+)"\s*\}/gi)]
    .map((m) => m[1]!)
    .filter((name) => name !== 'MAX');
}
