/**
 * The kernel test suite, run inside the VM by /init as `node kernels/dist/guest/suite.js /etc/kappie/vm.json`.
 * Order matters (each collector run is shared by the tests after its start, as starting node costs seconds here):
 *
 *  1. the collector under the DaemonSet's capabilities: hist path, real drops against the kernel's counters,
 *     dropped bytes against nftables' byte counters, BTF;
 *  2. SIGKILL, then a restart as root forced onto the stream path, which replaces the stale state; drops again;
 *  3. SIGTERM, which removes everything;
 *  4. with no drop collector left to disturb: a real bond under the node's uplink (bond-tests.ts), its own collector.
 *
 * Results go to the serial console as report lines (report.ts); the process exits 0 whatever the results.
 */
import * as fs from 'node:fs';
import type { VmConfig } from '../initramfs';
import { registerBondTests } from './bond-tests';
import { registerBtfTests } from './btf-tests';
import { installRules, reasonNames, type SuiteContext } from './context';
import { registerDropTests } from './drop-tests';
import {
  registerCrashAndRestartTests,
  registerSourcesUpRecord,
  registerStartTests,
  registerStopTests,
} from './lifecycle-tests';
import { createTestNetwork, removeTestNetwork, type TestNetwork } from './namespaces';
import { GuestRunner } from './runner';

async function main(configFile: string): Promise<void> {
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as VmConfig;
  const runner = new GuestRunner();
  let network: TestNetwork | undefined;
  try {
    network = await createTestNetwork();
    installRules();
  } catch (error) {
    runner.test('test network (namespaces, veth, agents, nftables rules)', () => {
      throw error;
    });
    runner.done(await runner.run());
    return;
  }
  const context: SuiteContext = { config, network, collector: undefined, facts: {} };
  const boundedSourcesUp: Record<string, number> = {};

  registerStartTests(runner, context);
  registerDropTests(runner, context, 'hist');
  registerBtfTests(runner, context);
  registerSourcesUpRecord(runner, context, boundedSourcesUp);
  registerCrashAndRestartTests(runner, context, boundedSourcesUp);
  registerDropTests(runner, context, 'stream');
  registerStopTests(runner, context);
  registerBondTests(runner);

  const counts = await runner.run();
  runner.facts({
    release: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    dropsPath: context.facts.dropsPath ?? 'none',
    dropBytes: context.facts.dropBytes ?? false,
    kprobe: context.facts.kprobe,
    reasons: reasonNames().length,
  });
  runner.done(counts);
  if (context.collector) await context.collector.stop('SIGKILL');
  removeTestNetwork(network);
}

main(process.argv[2] ?? '/etc/kappie/vm.json').then(
  () => process.exit(0),
  (error: unknown) => {
    process.stdout.write(`KAPPIE-VM-INIT: suite crashed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
