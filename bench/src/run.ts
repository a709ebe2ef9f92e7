/**
 * `npm run bench -- <name> [options]`: runs one benchmark. Each prints Markdown ready for bench/RESULTS.md.
 */
import { main as dropStorm } from './drop-storm';
import { main as flagsDatapath } from './flags-datapath';
import { main as flagsRuleCost } from './flags-rule-cost';
import { main as scrape } from './scrape-bench';
import { main as tcpTable } from './tcp-table-bench';

const BENCHMARKS: Record<string, (args: readonly string[]) => Promise<void>> = {
  scrape: async (args) => scrape(args),
  'drop-storm': async (args) => dropStorm(args),
  'flags-datapath': async (args) => flagsDatapath(args),
  'flags-rule-cost': async (args) => flagsRuleCost(args),
  'tcp-table': async (args) => tcpTable(args),
};

async function run(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const benchmark = name === undefined ? undefined : BENCHMARKS[name];
  if (!benchmark) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [options]\n`);
    process.exit(2);
  }
  await benchmark(args);
}

run().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
