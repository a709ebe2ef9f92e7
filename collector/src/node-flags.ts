/**
 * The Node.js flags of the `kappie` bin's shebang (`#!/usr/bin/env -S node --flag ...`, see cli.ts). Tests,
 * benchmarks and container commands read them from there so they run the collector exactly as the bin does.
 */
export function shebangNodeFlags(firstLine: string): string[] {
  const match = /^#!.*\bnode((?:\s+--\S+)*)\s*$/.exec(firstLine);
  return match ? match[1]!.trim().split(/\s+/).filter(Boolean) : [];
}
