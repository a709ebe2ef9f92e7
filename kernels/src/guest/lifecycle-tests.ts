/**
 * The collector's life on a real kernel: started the way the DaemonSet starts it (uid 0 holding only the
 * capabilities deploy/kubernetes grants, no_new_privs), killed with SIGKILL (a crash: what it installed stays), started
 * again (it replaces the stale state), stopped with SIGTERM (it removes everything).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { INSTANCE, NFT_TABLE, RunningCollector, Scrape } from './collector';
import { TRACEFS, requireCollector, type SuiteContext } from './context';
import type { GuestRunner } from './runner';

/** Capability numbers (include/uapi/linux/capability.h) of the names Kubernetes manifests use. */
const CAPABILITY_NUMBERS: Readonly<Record<string, number>> = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  DAC_READ_SEARCH: 2,
  FOWNER: 3,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  NET_BIND_SERVICE: 10,
  NET_ADMIN: 12,
  NET_RAW: 13,
  IPC_LOCK: 14,
  SYS_MODULE: 16,
  SYS_PTRACE: 19,
  SYS_ADMIN: 21,
  SYS_RESOURCE: 24,
  SYSLOG: 34,
  PERFMON: 38,
  BPF: 39,
};

function capabilityMask(names: readonly string[]): bigint {
  return names.reduce((mask, name) => {
    const bit = CAPABILITY_NUMBERS[name];
    if (bit === undefined) throw new Error(`unknown capability ${name}`);
    return mask | (1n << BigInt(bit));
  }, 0n);
}

/** setpriv the way a container runtime bounds a container: only these capabilities, no privilege gain. */
function daemonSetWrapper(add: readonly string[]): string[] {
  const bounding = ['-all', ...add.map((c) => `+${c.toLowerCase()}`)].join(',');
  return ['setpriv', '--no-new-privs', '--inh-caps=-all', `--bounding-set=${bounding}`, '--'];
}

const instanceDir = `${TRACEFS}/instances/${INSTANCE}`;
const kprobeInstalled = () => fs.readFileSync(`${TRACEFS}/kprobe_events`, 'latin1').includes('kfree_skb_bytes');
const nftTables = () =>
  spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => line.trim() === `table inet ${NFT_TABLE}`).length;

/** How the collector counts drops and bytes on this kernel, from its own log (bytes: once drops happened). */
function learnFacts(collector: RunningCollector): SuiteContext['facts'] {
  const kprobe = collector.log.find((l) => /counting dropped bytes with a kprobe/.test(l.msg ?? ''));
  return {
    dropsPath: collector.log.some((l) => /\(hist trigger\)/.test(l.msg ?? '')) ? 'hist' : 'stream',
    kprobe: kprobe ? { target: String(kprobe['target']), access: String(kprobe['access']) } : undefined,
  };
}

export function registerStartTests(runner: GuestRunner, context: SuiteContext): void {
  runner.test(
    'DaemonSet capabilities: the collector starts holding exactly the capabilities the manifest adds',
    async () => {
      const { add, drop } = context.config.capabilities;
      assert.deepEqual(drop, ['ALL'], 'the manifest is expected to drop every capability first');
      context.collector = await RunningCollector.start([], daemonSetWrapper(add));
      context.facts = learnFacts(context.collector);
      const held = context.collector.capabilities();
      assert.equal(held['CapEff'], capabilityMask(add), `effective capabilities 0x${held['CapEff']?.toString(16)}`);
      assert.equal(held['CapBnd'], capabilityMask(add), `bounding set 0x${held['CapBnd']?.toString(16)}`);
    },
  );

  runner.test(
    'hist: the kernel counts kfree_skb in a hist trigger of our instance, with those capabilities',
    async () => {
      const collector = requireCollector(context);
      await collector.waitForLog(/counting kfree_skb drops in the kernel \(hist trigger\)/, 1000);
      const trigger = fs.readFileSync(`${instanceDir}/events/skb/kfree_skb/trigger`, 'latin1');
      assert.match(trigger, /^hist:keys=reason/m);
      const scrape = await Scrape.take();
      assert.equal(scrape.sourcesUp()['drop_reasons'], 1);
      assert.equal(scrape.lostEvents('drop_reasons'), 0);
    },
  );
}

/** kappie_source_up of the run under the DaemonSet's capabilities, compared with the run as full root later. */
export function registerSourcesUpRecord(
  runner: GuestRunner,
  context: SuiteContext,
  record: Record<string, number>,
): void {
  runner.test(
    'DaemonSet capabilities: every source reports up (kappie_source_up) and the flag table is installed',
    async () => {
      const collector = requireCollector(context);
      Object.assign(record, (await Scrape.take()).sourcesUp());
      const down = Object.entries(record)
        .filter(([, up]) => up !== 1)
        .map(([source]) => source);
      const said = collector.log
        .filter((line) => down.some((source) => JSON.stringify(line).includes(source)))
        .map((line) => JSON.stringify(line))
        .join('\n');
      assert.deepEqual(down, [], `sources down with the DaemonSet's capabilities: ${down.join(', ')}\n${said}`);
      assert.equal(nftTables(), 1, `nft table inet ${NFT_TABLE} missing`);
    },
  );
}

export function registerCrashAndRestartTests(
  runner: GuestRunner,
  context: SuiteContext,
  boundedSourcesUp: Record<string, number>,
): void {
  runner.test(
    'SIGKILL leaves the tracefs instance and the kprobe behind (a crash); the kernel removes the owned nft table',
    async () => {
      const collector = requireCollector(context);
      const hadKprobe = context.facts.kprobe !== undefined;
      await collector.stop('SIGKILL');
      context.collector = undefined;
      assert.ok(fs.existsSync(instanceDir), 'instance gone after SIGKILL');
      // The table is owned (flags owner) by the collector's nft session, which ends with it.
      assert.equal(nftTables(), 0, 'owned nft table left after SIGKILL');
      if (hadKprobe) assert.ok(kprobeInstalled(), 'kprobe gone after SIGKILL');
    },
  );

  runner.test(
    'the next start replaces the stale state (instance, kprobe) and creates its nft table (stream mode, as root)',
    async () => {
      context.collector = await RunningCollector.start(['--drop-reader', 'stream']);
      await context.collector.waitForLog(/removed a stale tracefs instance/, 1000);
      await context.collector.waitForLog(/streaming kfree_skb drops/, 1000);
      assert.equal(kprobeInstalled(), false, 'the stale kprobe is still defined');
      // The SIGKILLed collector's owned table went with it: this start creates a new one (at the first gathering).
      await Scrape.take();
      assert.equal(nftTables(), 1);
      const trigger = fs.readFileSync(`${instanceDir}/events/skb/kfree_skb/trigger`, 'latin1');
      assert.doesNotMatch(trigger, /^hist:/m, 'the stale hist trigger is still there');
    },
  );

  runner.test('DaemonSet capabilities: the same sources are up as with full root', async () => {
    requireCollector(context);
    assert.deepEqual((await Scrape.take()).sourcesUp(), boundedSourcesUp);
  });
}

export function registerStopTests(runner: GuestRunner, context: SuiteContext): void {
  runner.test('SIGTERM: exits 0 and removes the tracefs instance, the kprobe and the nft table', async () => {
    const collector = requireCollector(context);
    const exit = await collector.stop('SIGTERM');
    context.collector = undefined;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(fs.existsSync(instanceDir), false, 'instance left behind');
    assert.equal(kprobeInstalled(), false, 'kprobe left behind');
    assert.equal(nftTables(), 0, 'nft table left behind');
  });
}
