/**
 * Boots one kernel under qemu with software emulation (TCG: nested virtualisation is not available to guests here,
 * so KVM fails) and hands back what its serial console printed. The VM powers itself off when the suite ends; a VM
 * that does not is killed at the deadline. Every running VM is in the caller's VmSet, which kills them all when the
 * process exits, however it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';

export interface BootOptions {
  readonly vmlinuz: string;
  readonly initrd: string;
  readonly timeoutMs: number;
  readonly memoryMb: number;
  readonly cpus: number;
  /** Every console line as it arrives. */
  readonly onLine: (line: string) => void;
}

export interface BootResult {
  readonly transcript: string;
  /** `exited`: qemu ended by itself (the guest rebooted with -no-reboot); `timeout`: killed at the deadline. */
  readonly ending: 'exited' | 'timeout';
  readonly exitCode: number | null;
  readonly wallMs: number;
}

/** The kernel command line: console on the first serial port, kernel chatter kept off it, no reboot on panic. */
export const KERNEL_COMMAND_LINE = 'console=ttyS0 panic=-1 quiet loglevel=1';

/** The VMs a run has started and not yet seen end. */
export class VmSet {
  private readonly running = new Set<ChildProcess>();

  constructor() {
    process.once('exit', () => this.killAll());
  }

  add(child: ChildProcess): void {
    this.running.add(child);
    child.once('close', () => this.running.delete(child));
  }

  /** Kills every VM still running (on exit, on SIGINT/SIGTERM, at the end of a run). */
  killAll(): void {
    for (const child of this.running) child.kill('SIGKILL');
    this.running.clear();
  }
}

export function qemuArguments(options: Pick<BootOptions, 'vmlinuz' | 'initrd' | 'memoryMb' | 'cpus'>): string[] {
  return [
    '-accel',
    'tcg',
    '-m',
    String(options.memoryMb),
    '-smp',
    String(options.cpus),
    '-kernel',
    options.vmlinuz,
    '-initrd',
    options.initrd,
    '-append',
    KERNEL_COMMAND_LINE,
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    '-nodefaults',
    '-no-reboot',
  ];
}

export function bootGuest(options: BootOptions, vms: VmSet): Promise<BootResult> {
  const started = Date.now();
  const child = spawn('qemu-system-x86_64', qemuArguments(options), { stdio: ['ignore', 'pipe', 'pipe'] });
  vms.add(child);
  const lines: string[] = [];
  const take = (line: string) => {
    const clean = line.replace(/\r$/, '');
    lines.push(clean);
    options.onLine(clean);
  };
  readline.createInterface({ input: child.stdout! }).on('line', take);
  readline.createInterface({ input: child.stderr! }).on('line', (line) => take(`qemu: ${line}`));
  return new Promise((resolve, reject) => {
    let ending: BootResult['ending'] = 'exited';
    const deadline = setTimeout(() => {
      ending = 'timeout';
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(deadline);
      resolve({ transcript: lines.join('\n'), ending, exitCode: code, wallMs: Date.now() - started });
    });
  });
}
