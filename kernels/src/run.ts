/**
 * `npm run test:kernels`: the collector on real kernels. For each kernel of the matrix (Debian's cloud kernels apt
 * serves here, newest of each series), fetch and unpack the package (cached), build an initramfs with the built
 * collector and the VM suite, boot it under qemu (TCG), and read the suite's results from the serial console.
 * Ends with the line `N passed, N failed` (a kernel whose guest did not finish counts as one failure) and exit code
 * 1 on any failure; prints why and exits 0 with `0 passed, 0 failed` when it cannot run here.
 *
 * Kernels boot side by side, one emulated CPU each, as many at once as the host has CPUs (--jobs).
 *
 * Options: --kernels PKG[,PKG] (instead of the matrix), --jobs N, --timeout SECONDS per kernel (default 600),
 * --results FILE (JSON summary), --verbose (every console line), --record DIR (write the kernel files the guest
 * records, for collector/test/fixtures, to DIR/<series>/). Cache: KAPPIE_KERNEL_CACHE.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { appArchive, baseArchive, concatenate, modulesArchive, type VmConfig } from './initramfs';
import { cacheDirectory, ensureKernel, pruneReplacedKernels } from './kernel-cache';
import { APT_SEARCH_REGEX, chooseKernels, namedKernels, type MatrixKernel } from './matrix';
import { ensurePrerequisites } from './prerequisites';
import { bootGuest, VmSet } from './qemu';
import { parseConsole, REPORT_PREFIX, type KernelFacts } from './report';

const REPO_ROOT = path.join(__dirname, '..', '..');

interface Options {
  readonly kernels: readonly string[] | undefined;
  readonly jobs: number;
  readonly timeoutSeconds: number;
  readonly results: string | undefined;
  readonly record: string | undefined;
  readonly verbose: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  let kernels: string[] | undefined;
  let timeoutSeconds = 600;
  let results: string | undefined;
  let record: string | undefined;
  let verbose = false;
  let jobs = Math.max(1, os.availableParallelism());
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    if (flag === '--kernels') kernels = value().split(',').filter(Boolean);
    else if (flag === '--timeout') timeoutSeconds = Number(value());
    else if (flag === '--jobs') jobs = Number(value());
    else if (flag === '--results') results = value();
    else if (flag === '--record') record = value();
    else if (flag === '--verbose') verbose = true;
    else
      throw new Error(
        `unknown option ${flag} (--kernels PKG[,PKG], --jobs N, --timeout SECONDS, --results FILE, --record DIR, --verbose)`,
      );
  }
  if (!(timeoutSeconds > 0)) throw new Error('--timeout needs a number of seconds');
  if (!(Number.isInteger(jobs) && jobs > 0)) throw new Error('--jobs needs a whole number above 0');
  return { kernels, jobs, timeoutSeconds, results, record, verbose };
}

/** Per kernel, what happened. */
export interface KernelResult {
  readonly kernel: MatrixKernel;
  readonly passed: number;
  readonly failed: number;
  /** Why the kernel was not run (apt cannot fetch it), or undefined. */
  readonly skipped?: string;
  readonly facts?: KernelFacts;
  /** Boot to power-off, seconds. */
  readonly wallSeconds?: number;
}

/** The capabilities the Linux DaemonSet grants (deploy/kubernetes/base/daemonset-linux.yaml). */
function daemonSetCapabilities(): VmConfig['capabilities'] {
  const file = path.join(REPO_ROOT, 'deploy', 'kubernetes', 'base', 'daemonset-linux.yaml');
  for (const document of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
    const object = document.toJS() as {
      kind?: string;
      spec?: {
        template?: { spec?: { containers?: { securityContext?: { capabilities?: VmConfig['capabilities'] } }[] } };
      };
    };
    const capabilities =
      object.kind === 'DaemonSet'
        ? object.spec?.template?.spec?.containers?.[0]?.securityContext?.capabilities
        : undefined;
    if (capabilities) return { add: capabilities.add ?? [], drop: capabilities.drop ?? [] };
  }
  throw new Error(`${file}: no DaemonSet container with securityContext.capabilities`);
}

function matrix(options: Options, log: (line: string) => void): MatrixKernel[] | string {
  if (options.kernels) return namedKernels(options.kernels);
  const search = spawnSync('apt-cache', ['search', '--names-only', APT_SEARCH_REGEX], { encoding: 'utf8' });
  let kernels = search.status === 0 ? chooseKernels(search.stdout) : [];
  if (kernels.length === 0) {
    log('apt-cache lists no cloud kernel: running apt-get update');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    const again = spawnSync('apt-cache', ['search', '--names-only', APT_SEARCH_REGEX], { encoding: 'utf8' });
    kernels = again.status === 0 ? chooseKernels(again.stdout) : [];
  }
  return kernels.length > 0 ? kernels : `apt lists no ${APT_SEARCH_REGEX} package (is a Debian archive configured?)`;
}

async function runKernel(
  kernel: MatrixKernel,
  archives: { base: string; app: string },
  scratch: string,
  vms: VmSet,
  options: Options,
  log: (line: string) => void,
): Promise<KernelResult> {
  let unpacked;
  try {
    unpacked = ensureKernel(kernel, cacheDirectory(), log);
  } catch (error) {
    return { kernel, passed: 0, failed: 0, skipped: (error as Error).message };
  }
  const modules = modulesArchive(unpacked, cacheDirectory(), scratch);
  if (modules.plan.missing.length > 0) {
    log(
      `  not in modules.dep nor modules.builtin (merged into another module, or absent): ${modules.plan.missing.join(', ')}`,
    );
  }
  const initrd = path.join(scratch, `initrd-${kernel.release}.cpio`);
  concatenate([archives.base, modules.archive, archives.app], initrd);
  log(`  booting ${kernel.release} under qemu (TCG)`);
  const boot = await bootGuest(
    {
      vmlinuz: unpacked.vmlinuz,
      initrd,
      timeoutMs: options.timeoutSeconds * 1000,
      memoryMb: 1536,
      cpus: 1,
      onLine: (line) => {
        if (options.verbose) log(`  | ${line}`);
        else if (line.includes(REPORT_PREFIX)) {
          const report = parseConsole(line);
          for (const test of report.tests) {
            log(`  ${test.ok ? 'ok  ' : 'FAIL'} ${test.name} (${(test.ms / 1000).toFixed(1)} s)`);
            if (test.error) log(`       ${test.error.split('\n').join('\n       ')}`);
          }
        } else if (line.startsWith('KAPPIE-VM-INIT')) log(`  ${line}`);
      },
    },
    vms,
  );
  fs.rmSync(initrd, { force: true });
  const report = parseConsole(boot.transcript);
  const passed = report.tests.filter((t) => t.ok).length;
  let failed = report.tests.length - passed;
  const finished = report.done !== undefined && report.done.passed + report.done.failed === report.tests.length;
  if (!finished) {
    failed += 1;
    const why =
      boot.ending === 'timeout'
        ? `killed after ${options.timeoutSeconds} s without finishing`
        : `powered off (qemu exit ${boot.exitCode}) before the suite finished`;
    log(`  FAIL ${kernel.release}: the guest ${why}; its last console lines:`);
    for (const line of boot.transcript.split('\n').slice(-40)) log(`  | ${line}`);
  }
  for (const line of report.unreadable) log(`  unreadable report line: ${line}`);
  if (options.record) {
    const dir = path.join(options.record, kernel.series);
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of report.files) fs.writeFileSync(path.join(dir, name), bytes);
    log(`  recorded ${[...report.files.keys()].join(', ')} in ${dir}`);
  }
  return { kernel, passed, failed, facts: report.facts, wallSeconds: Math.round(boot.wallMs / 100) / 10 };
}

function summary(results: readonly KernelResult[], log: (line: string) => void): void {
  log('\nkernel matrix:');
  for (const r of results) {
    if (r.skipped) {
      log(`  ${r.kernel.release}: skipped: ${r.skipped}`);
      continue;
    }
    const f = r.facts;
    const bytes = f?.dropBytes ? `yes (kprobe on ${f.kprobe?.target}, ${f.kprobe?.access})` : 'no';
    log(
      `  ${r.kernel.release}: ${r.passed} passed, ${r.failed} failed in ${r.wallSeconds} s; drops path ${f?.dropsPath ?? '?'}, drop bytes ${bytes}, ${f?.reasons ?? '?'} drop reasons`,
    );
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  const options = parseOptions(argv);
  const finish = (results: readonly KernelResult[], note?: string) => {
    const passed = results.reduce((sum, r) => sum + r.passed, 0);
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    if (note) log(`kernel tests skipped: ${note}`);
    summary(results, log);
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`kernel matrix wall time: ${seconds} s`);
    if (options.results) {
      fs.mkdirSync(path.dirname(options.results), { recursive: true });
      fs.writeFileSync(
        options.results,
        `${JSON.stringify({ passed, failed, skipped: note, seconds, results }, null, 2)}\n`,
      );
    }
    log(`\n${passed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  };

  const why = ensurePrerequisites(log);
  if (why) return finish([], why);
  const kernels = matrix(options, log);
  if (typeof kernels === 'string') return finish([], kernels);
  log(`kernel matrix: ${kernels.map((k) => k.packageName).join(', ')}`);
  if (!options.kernels) pruneReplacedKernels(cacheDirectory(), kernels, log);

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-vm-'));
  const vms = new VmSet();
  const removeScratch = () => fs.rmSync(scratch, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals) => {
    vms.killAll();
    removeScratch();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', removeScratch);
  try {
    const base = baseArchive(cacheDirectory(), scratch, log);
    const app = appArchive(REPO_ROOT, scratch, {
      capabilities: daemonSetCapabilities(),
      record: options.record !== undefined,
    });
    const results: KernelResult[] = new Array(kernels.length);
    let next = 0;
    const worker = async () => {
      for (let index = next++; index < kernels.length; index = next++) {
        const kernel = kernels[index]!;
        const tagged = (line: string) => log(`[${kernel.series}] ${line}`);
        tagged(`=== ${kernel.release} (${kernel.packageName})`);
        results[index] = await runKernel(kernel, { base, app }, scratch, vms, options, tagged);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.jobs, kernels.length) }, worker));
    const ran = results.filter((r) => !r.skipped);
    return finish(results, ran.length === 0 ? 'no kernel of the matrix could be fetched' : undefined);
  } finally {
    vms.killAll();
    removeScratch();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `test:kernels: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.stdout.write('\n0 passed, 1 failed\n');
      process.exit(1);
    },
  );
}
