import * as fs from 'node:fs';
import * as path from 'node:path';
import { inetDiagDumpRequest, tallyInetDiagChunk, AF_INET } from '../../../src/kernel/inet-diag';
import { newTcpSocketTally, tallyTcpTable, type TcpSocketTally } from '../../../src/kernel/tcp-table';
import { servicePeerCounts, topRemotePeers } from '../../../src/remote-peers';
import { FIXTURES } from '../../helpers/fixtures';
import { itFuzzesChunkParser } from '../../helpers/netlink-frames';

const recorded = (name: string) => fs.readFileSync(path.join(FIXTURES, 'linux', name));

/** Tallies a recorded dump (all its chunks, concatenated as received); returns whether NLMSG_DONE was reached. */
function tallyDump(bytes: Buffer, tally: TcpSocketTally): boolean {
  return tallyInetDiagChunk(bytes, bytes.length, tally, true);
}

function tallyBoth(prefix: string, kind: 'diag' | 'table'): TcpSocketTally {
  const tally = newTcpSocketTally(true);
  if (kind === 'diag') {
    expect(tallyDump(recorded(`${prefix}.diag4`), tally)).toBe(true);
    expect(tallyDump(recorded(`${prefix}.diag6`), tally)).toBe(true);
  } else {
    tallyTcpTable(recorded(`${prefix}.tcp`), 'tcp', { family: 'tcp', littleEndian: true }, tally);
    tallyTcpTable(recorded(`${prefix}.tcp6`), 'tcp6', { family: 'tcp6', littleEndian: true }, tally);
  }
  return tally;
}

describe('tallyInetDiagChunk on netlink dumps recorded from namespaces', () => {
  it.each(['tcp-netns-a', 'tcp-netns-b'])(
    '%s: the same states and peers as /proc/net/tcp{,6} of that moment',
    (prefix) => {
      const fromDiag = tallyBoth(prefix, 'diag');
      const fromTable = tallyBoth(prefix, 'table');
      expect(fromDiag.states).toEqual(fromTable.states);
      expect(fromDiag.peers!.remotes.length).toBe(fromTable.peers!.remotes.length);
      expect(topRemotePeers(servicePeerCounts(fromDiag), 1000, true)).toEqual(
        topRemotePeers(servicePeerCounts(fromTable), 1000, true),
      );
      expect(fromDiag.states.reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
    },
  );

  it('builds the dump request ss sends: SOCK_DIAG_BY_FAMILY, request|dump, TCP, every state', () => {
    const request = inetDiagDumpRequest(AF_INET, 7, true);
    expect(request.length).toBe(72);
    expect([
      request.readUInt32LE(0),
      request.readUInt16LE(4),
      request.readUInt16LE(6),
      request.readUInt32LE(8),
    ]).toEqual([72, 20, 0x301, 7]);
    expect([request[16], request[17], request.readUInt32LE(20)]).toEqual([AF_INET, 6, 0x1ffe]);
  });

  it('reports a kernel error message as a ParseError with the errno', () => {
    const error = Buffer.alloc(36);
    error.writeUInt32LE(36, 0);
    error.writeUInt16LE(2, 4); // NLMSG_ERROR
    error.writeInt32LE(-2, 16); // -ENOENT
    expect(() => tallyDump(error, newTcpSocketTally(true))).toThrow(/error 2/);
  });

  it('reports a dump the kernel ended with an error (NLMSG_DONE carrying a negative errno)', () => {
    const done = Buffer.alloc(20);
    done.writeUInt32LE(20, 0);
    done.writeUInt16LE(3, 4); // NLMSG_DONE
    done.writeInt32LE(-16, 16); // -EBUSY
    expect(() => tallyDump(done, newTcpSocketTally(true))).toThrow(/ended the dump with error 16/);
    done.writeInt32LE(0, 16);
    expect(tallyDump(done, newTcpSocketTally(true))).toBe(true);
  });
});

describe('tallyInetDiagChunk fuzzing', () => {
  const dump = recorded('tcp-netns-a.diag4');
  const parse = (bytes: Buffer, length: number) => {
    const tally = newTcpSocketTally(true);
    const done = tallyInetDiagChunk(bytes, length, tally, true);
    for (const count of tally.states) expect(Number.isSafeInteger(count)).toBe(true);
    return done;
  };

  itFuzzesChunkParser(dump, parse, 400, 'whole counts');
});
