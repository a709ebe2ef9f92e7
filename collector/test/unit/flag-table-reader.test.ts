import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { Netlink, NetlinkChunkHandler } from '../../src/kernel/netlink-socket';
import { NftMissingObjectError } from '../../src/kernel/nft-command';
import { flagTotals } from '../../src/sources/linux/flag-counters';
import { createFlagTableReader, readFlagTable } from '../../src/sources/linux/flag-table-reader';
import { FIXTURES } from '../helpers/fixtures';

/** Recorded by record-counter-dump.py from this kernel (6.18, x86_64): the 512 counters of a `kappie` table. */
const KAPPIE_DUMP = fs.readFileSync(path.join(FIXTURES, 'linux', 'nft', 'counters-kappie.dump'));
const NLM_F_DUMP_INTR = 0x10;

/** The recording with NLM_F_DUMP_INTR set on every message: a dump the ruleset changed under. */
function interrupted(dump: Buffer): Buffer {
  const bytes = Buffer.from(dump);
  for (let at = 0; at < bytes.length; at += (bytes.readUInt32LE(at) + 3) & ~3) {
    bytes.writeUInt16LE(bytes.readUInt16LE(at + 6) | NLM_F_DUMP_INTR, at + 6);
  }
  return bytes;
}

interface Answers {
  /** What the off-thread dump answers (a recording), or the message it rejects with. */
  readonly offThread: Buffer | string;
  /** What the main-thread dump answers, or the message it throws. */
  readonly main: Buffer | string;
}

/** A netlink client answering counter dumps from recordings; counts the dumps made on each side. */
function recordedNftNetlink(answers: Answers): Netlink & { mainDumps: number; offThreadDumps: number } {
  const answer = (with_: Buffer | string, onChunk: NetlinkChunkHandler) => {
    if (typeof with_ === 'string') throw new Error(with_);
    if (!onChunk(Buffer.from(with_), with_.length, true)) throw new Error('the recording did not end the dump');
  };
  const netlink = {
    mainDumps: 0,
    offThreadDumps: 0,
    dump(_protocol: number, _what: string, _requests: readonly Buffer[], onChunk: NetlinkChunkHandler) {
      netlink.mainDumps += 1;
      answer(answers.main, onChunk);
    },
    dumpOffThread(_protocol: number, _what: string, _request: Buffer, onChunk: NetlinkChunkHandler) {
      netlink.offThreadDumps += 1;
      return new Promise((resolve) => setImmediate(resolve)).then(() => answer(answers.offThread, onChunk));
    },
    close() {
      // A recording keeps no socket.
    },
  };
  return netlink;
}

function capturingLogger(lines: Record<string, unknown>[]): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

const expectedTotals = flagTotals([
  readFlagTable(recordedNftNetlink({ offThread: '', main: KAPPIE_DUMP }), 'inet', 'k'),
]);

describe('the flag table reader: the inet table dumped off the main thread, the main thread when it must', () => {
  it('takes the prefetched dump: the same totals, no dump on the main thread', async () => {
    const netlink = recordedNftNetlink({ offThread: KAPPIE_DUMP, main: 'not expected on the main thread' });
    const reader = createFlagTableReader(netlink);
    const lines: Record<string, unknown>[] = [];
    for (let gathering = 0; gathering < 3; gathering++) {
      reader.prefetch('k');
      expect(flagTotals(await reader.read(capturingLogger(lines), ['inet'], 'k'))).toEqual(expectedTotals);
    }
    expect([netlink.offThreadDumps, netlink.mainDumps, lines]).toEqual([3, 0, []]);
  });

  it('dumps on the main thread without a prefetch, and for the bridge table', async () => {
    const netlink = recordedNftNetlink({ offThread: KAPPIE_DUMP, main: KAPPIE_DUMP });
    const reader = createFlagTableReader(netlink);
    expect(flagTotals(await reader.read(capturingLogger([]), ['inet'], 'k'))).toEqual(expectedTotals);
    reader.prefetch('k');
    expect(await reader.read(capturingLogger([]), ['inet', 'bridge'], 'k')).toHaveLength(2);
    expect([netlink.offThreadDumps, netlink.mainDumps]).toEqual([1, 2]);
  });

  it('dumps again on the main thread when the prefetched dump was interrupted (the ruleset changed meanwhile)', async () => {
    const netlink = recordedNftNetlink({ offThread: interrupted(KAPPIE_DUMP), main: KAPPIE_DUMP });
    const reader = createFlagTableReader(netlink);
    const lines: Record<string, unknown>[] = [];
    reader.prefetch('k');
    expect(flagTotals(await reader.read(capturingLogger(lines), ['inet'], 'k'))).toEqual(expectedTotals);
    reader.prefetch('k');
    await reader.read(capturingLogger(lines), ['inet'], 'k');
    // Not a failure of the worker threads: prefetching goes on, and nothing is logged.
    expect([netlink.offThreadDumps, netlink.mainDumps, lines]).toEqual([2, 2, []]);
  });

  it('says the table is missing when the prefetched dump is empty and the main thread finds none either', async () => {
    const done = KAPPIE_DUMP.subarray(KAPPIE_DUMP.length - 20); // the recording's NLMSG_DONE alone
    const reader = createFlagTableReader(recordedNftNetlink({ offThread: done, main: done }));
    reader.prefetch('k');
    await expect(reader.read(capturingLogger([]), ['inet'], 'k')).rejects.toThrow(NftMissingObjectError);
  });

  it('dumps on the main thread for good, saying why once, when only the off-thread dump fails', async () => {
    const netlink = recordedNftNetlink({ offThread: 'recvmmsg returned -1 (errno 14)', main: KAPPIE_DUMP });
    const reader = createFlagTableReader(netlink);
    const lines: Record<string, unknown>[] = [];
    for (let gathering = 0; gathering < 3; gathering++) {
      reader.prefetch('k');
      expect(flagTotals(await reader.read(capturingLogger(lines), ['inet'], 'k'))).toEqual(expectedTotals);
    }
    expect([netlink.offThreadDumps, netlink.mainDumps]).toEqual([1, 3]);
    expect(lines.filter((line) => line['level'] === 40)).toEqual([
      expect.objectContaining({
        msg: 'nftables counter dump off the main thread failed: dumping on it',
        err: 'recvmmsg returned -1 (errno 14)',
      }),
    ]);
  });

  it('keeps prefetching when the main thread fails alike (the worker threads are not at fault)', async () => {
    const netlink = recordedNftNetlink({ offThread: 'errno 24', main: 'errno 24' });
    const reader = createFlagTableReader(netlink);
    for (let gathering = 0; gathering < 2; gathering++) {
      reader.prefetch('k');
      await expect(reader.read(capturingLogger([]), ['inet'], 'k')).rejects.toThrow('errno 24');
    }
    expect(netlink.offThreadDumps).toBe(2);
  });

  it('settle waits for a prefetch nobody read; the next gathering starts its own', async () => {
    const netlink = recordedNftNetlink({ offThread: KAPPIE_DUMP, main: 'not expected on the main thread' });
    const reader = createFlagTableReader(netlink);
    reader.prefetch('k');
    reader.prefetch('k'); // one dump at a time: the second start is the first one
    await reader.settle();
    reader.prefetch('k');
    expect(flagTotals(await reader.read(capturingLogger([]), ['inet'], 'k'))).toEqual(expectedTotals);
    expect([netlink.offThreadDumps, netlink.mainDumps]).toEqual([2, 0]);
  });
});
