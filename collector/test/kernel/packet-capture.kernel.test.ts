/**
 * The tcpdump reference of the kernel tests (test/helpers/packet-capture.ts) on a real veth: a capture that falls
 * behind still holds every frame, and one that lost frames says so instead of serving as a reference.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanup, connect, describeKernel, Namespace, uniqueName, type Link } from '../helpers/netns';
import { countCaptured, parseCaptureStatistics, startCapture, type PacketCapture } from '../helpers/packet-capture';

/** Refused connects: each is one SYN and one RST, 2 * 40 frames, more than tcpdump's default ring holds on a veth. */
const REFUSED_CONNECTS = 40;
const CLOSED_PORT = 9;

describeKernel('tcpdump as a reference', () => {
  const files: string[] = [];
  afterAll(() => {
    cleanup();
    for (const file of files) fs.rmSync(file, { force: true });
  });

  /** Two namespaces joined by a veth, and a capture on `a`'s end writing to a file of its own. */
  async function capturedLink(): Promise<{ b: Namespace; link: Link; file: string; capture: PacketCapture }> {
    const link = connect(Namespace.create(), Namespace.create());
    const file = path.join(os.tmpdir(), `${uniqueName('ktcap')}.pcap`);
    files.push(file);
    return { b: link.b, link, file, capture: await startCapture(link.a, link.aIf, file) };
  }

  it('a capture paused through a burst of 80 frames still holds every one (the CI loss: 14 of 15 FINs)', async () => {
    const { b, link, file, capture } = await capturedLink();
    // Paused as a loaded machine pauses it: the kernel queues the burst to its ring until it runs again.
    process.kill(capture.pid, 'SIGSTOP');
    try {
      b.exec(
        'bash',
        '-c',
        `for i in $(seq ${REFUSED_CONNECTS}); do (exec 3<>/dev/tcp/${link.aAddr4}/${CLOSED_PORT}) 2>/dev/null; done; true`,
      );
    } finally {
      process.kill(capture.pid, 'SIGCONT');
    }
    const statistics = await capture.stop();
    expect(statistics).toEqual({
      captured: 2 * REFUSED_CONNECTS,
      receivedByFilter: 2 * REFUSED_CONNECTS,
      droppedByKernel: 0,
    });
    expect(countCaptured(file, 'tcp[13] & 0x12 == 0x02')).toBe(REFUSED_CONNECTS);
    expect(countCaptured(file, 'tcp[13] & 0x04 != 0')).toBe(REFUSED_CONNECTS);
  });

  it('refuses a capture whose tcpdump ended before stop() (its interface deleted), without waiting', async () => {
    const { link, capture } = await capturedLink();
    link.a.ip('link', 'del', link.aIf);
    // tcpdump ends on its own when its interface goes away.
    for (let wait = 0; wait < 50 && fs.existsSync(`/proc/${capture.pid}`); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const startedAt = Date.now();
    await expect(capture.stop()).rejects.toThrow(/tcpdump ended \(.*\) before the capture was stopped/);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  it("reads tcpdump's statistics as printed on SIGUSR1 and at exit, the last report winning", () => {
    expect(
      parseCaptureStatistics(
        'tcpdump: listening on eth1\ntcpdump: 2 packets captured, 4 packets received by filter, 0 packets dropped by kernel\n' +
          '32 packets captured\n40 packets received by filter\n8 packets dropped by kernel\n',
      ),
    ).toEqual({ captured: 32, receivedByFilter: 40, droppedByKernel: 8 });
    expect(parseCaptureStatistics('tcpdump: listening on eth1\n')).toBeUndefined();
  });
});
