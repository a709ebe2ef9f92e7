/**
 * tcpdump as a test's reference: every TCP frame crossing one interface of a namespace, written to a pcap file and
 * counted afterwards with tcpdump filters. A capture that lost frames is no reference, so stopping one proves it lost
 * none, or throws.
 *
 * Two ways a capture loses frames, both seen on this project's CI:
 * - The kernel drops them when tcpdump's ring is full. libpcap sizes a ring slot by the snapshot length when the
 *   interface has segmentation offloads (every veth does): with tcpdump's default 262144 bytes, its 2 MiB buffer holds
 *   32 frames, so a burst of 33 while tcpdump waits for a CPU loses one. Only headers are needed here, so the snapshot
 *   is `HEADER_SNAPSHOT_BYTES`, and the ring holds thousands.
 * - tcpdump is stopped (SIGINT) before it has read what the kernel already queued to it. `stop()` first asks for
 *   tcpdump's statistics (SIGUSR1) until every frame the kernel handed to it has been written.
 */
import type { ChildProcess } from 'node:child_process';
import { run, waitForOutput, type Namespace } from './netns';

/** Ethernet (14) + the longest IPv4 header (60) + the longest TCP header (60), rounded up: headers only. */
const HEADER_SNAPSHOT_BYTES = 256;
/** How long `stop()` waits for tcpdump to write what the kernel queued to it. */
const DRAIN_TIMEOUT_MS = 5_000;
const DRAIN_POLL_MS = 50;
/** How long tcpdump may take to write its statistics and exit after SIGINT. */
const STOP_TIMEOUT_MS = 10_000;

/** tcpdump's own count of a capture: its `-- packets captured / received by filter / dropped by kernel` lines. */
export interface CaptureStatistics {
  /** Frames tcpdump wrote to the file. */
  readonly captured: number;
  /** Frames that passed tcpdump's filter in the kernel: written, not yet read, or dropped. */
  readonly receivedByFilter: number;
  /** Of those, frames the kernel dropped because tcpdump's ring was full. */
  readonly droppedByKernel: number;
}

export interface PacketCapture {
  /** The pcap file being written. */
  readonly file: string;
  /** tcpdump's process id (`ip netns exec` runs it in its own place). */
  readonly pid: number;
  /**
   * Waits until tcpdump has written every frame the kernel queued to it, stops it and returns its statistics.
   * Throws when the kernel dropped frames, tcpdump could not catch up within 5 s or had already ended (its interface
   * deleted, killed): the file is then incomplete.
   */
  stop(): Promise<CaptureStatistics>;
}

/**
 * The statistics tcpdump prints on SIGUSR1 (one line: `tcpdump: 2 packets captured, 4 packets received by filter, 0
 * packets dropped by kernel`) or when it exits (the same, one per line). The last report in `text` wins; undefined
 * when there is none.
 */
export function parseCaptureStatistics(text: string): CaptureStatistics | undefined {
  const pattern =
    /(\d+) packets? captured[,\s]+(\d+) packets? received by filter[,\s]+(\d+) packets? dropped by kernel/g;
  let last: RegExpExecArray | undefined;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) last = match;
  if (!last) return undefined;
  return { captured: Number(last[1]), receivedByFilter: Number(last[2]), droppedByKernel: Number(last[3]) };
}

/**
 * Starts tcpdump on `iface` in `ns` for TCP frames, writing them to `file`; resolves once it is listening. Not for
 * loopback, where the kernel hands every frame to tcpdump twice and libpcap drops one copy: `stop()` would never
 * find the capture complete.
 */
export async function startCapture(ns: Namespace, iface: string, file: string): Promise<PacketCapture> {
  const child = ns.spawn('tcpdump', [
    '-i',
    iface,
    '-nn',
    '-s',
    String(HEADER_SNAPSHOT_BYTES),
    // libpcap's default TPACKET_V3 ring hands a block to tcpdump only when it fills or its timeout passes.
    '--immediate-mode',
    '-U',
    '-w',
    file,
    'tcp',
  ]);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // Watched from the start: a tcpdump that ends before stop() (its interface deleted, killed) must not be waited for.
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`)),
  );
  await waitForOutput(child, /listening on/);
  return { file, pid: child.pid!, stop: () => stopCapture(child, exited, () => output) };
}

async function stopCapture(
  child: ChildProcess,
  exited: Promise<string>,
  output: () => string,
): Promise<CaptureStatistics> {
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(
      `tcpdump ended (${await exited}) before the capture was stopped: it cannot serve as a reference; its output: ` +
        output(),
    );
  }
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const before = output().length;
    child.kill('SIGUSR1');
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    const report = parseCaptureStatistics(output().slice(before));
    if (report && (report.captured === report.receivedByFilter || report.droppedByKernel > 0)) break;
  }
  child.kill('SIGINT');
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(`tcpdump did not stop within ${STOP_TIMEOUT_MS} ms of SIGINT; its output: ${output()}`);
  }
  const final = parseCaptureStatistics(output());
  if (!final) throw new Error(`tcpdump printed no statistics when stopped; its output: ${output()}`);
  if (final.droppedByKernel > 0 || final.captured < final.receivedByFilter) {
    throw new Error(
      `the capture is incomplete: tcpdump wrote ${final.captured} of the ${final.receivedByFilter} frames that passed ` +
        `its filter (${final.droppedByKernel} dropped by the kernel, its ring full); it cannot serve as a reference`,
    );
  }
  return final;
}

/** TCP frames in a capture file matching a tcpdump filter expression. */
export function countCaptured(file: string, filter: string): number {
  const out = run('tcpdump', ['-r', file, '-nn', '--count', filter]);
  const match = /(\d+) packets?/.exec(out);
  if (!match) throw new Error(`tcpdump --count printed ${out}`);
  return Number(match[1]);
}
