#!/usr/bin/env node
// Sums the final "N passed, N failed" lines of several test logs (the main suite, the kernel matrix) into one such
// line, printed last. Exits 1 when any log has failures or lacks the line (a run that died before its count).
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  const counts = [...readFileSync(file, 'utf8').matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
  if (!counts) {
    console.log(`${file}: no "N passed, N failed" line: counted as one failure`);
    failed += 1;
    continue;
  }
  passed += Number(counts[1]);
  failed += Number(counts[2]);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
