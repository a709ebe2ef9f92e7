import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  inetDiagBothFamiliesDumpRequest,
  SOCK_DIAG_BY_FAMILY,
  tallyInetDiagChunk,
  TCPDIAG_GETSOCK,
} from '../../../src/kernel/inet-diag';
import type { Netlink, NetlinkChunkHandler } from '../../../src/kernel/netlink-socket';
import { createSockDiagReader } from '../../../src/kernel/sock-diag';
import { newTcpSocketTally } from '../../../src/kernel/tcp-table';
import { FIXTURES } from '../../helpers/fixtures';

const recorded = (name: string) => fs.readFileSync(path.join(FIXTURES, 'linux', name));

/** The messages of a recorded dump with their type changed (the answer to another request type). */
function retyped(dump: Buffer, type: number): Buffer {
  const bytes = Buffer.from(dump);
  for (let at = 0; at < bytes.length; at += (bytes.readUInt32LE(at) + 3) & ~3) {
    if (bytes.readUInt16LE(at + 4) === SOCK_DIAG_BY_FAMILY) bytes.writeUInt16LE(type, at + 4);
  }
  return bytes;
}

/** The recorded dump without its final NLMSG_DONE (20 bytes: header and the int). */
const withoutDone = (dump: Buffer) => dump.subarray(0, dump.length - 20);

const DIAG4 = recorded('tcp-netns-a.diag4');
const DIAG6 = recorded('tcp-netns-a.diag6');

/**
 * A Netlink that answers from recordings: the both-families request with `bothFamilies` (the recorded per-family
 * dumps as the kernel's TCPDIAG_GETSOCK answers them: one stream, that message type, one NLMSG_DONE), the
 * per-family requests with their recorded dumps. Records which requests it was sent.
 */
function recordedNetlink(bothFamilies: Buffer): Netlink & { sent: number[] } {
  const sent: number[] = [];
  const answer = (request: Buffer, onChunk: NetlinkChunkHandler) => {
    const type = request.readUInt16LE(4);
    sent.push(type);
    const recording = type === TCPDIAG_GETSOCK ? bothFamilies : request[16] === 2 ? DIAG4 : DIAG6;
    if (!onChunk(Buffer.from(recording), recording.length, true)) throw new Error('the recording did not end the dump');
  };
  return {
    sent,
    dump(_protocol, _what, requests, onChunk) {
      for (const request of requests) answer(request, onChunk);
    },
    dumpOffThread(_protocol, _what, request, onChunk) {
      return new Promise((resolve) => setImmediate(resolve)).then(() => answer(request, onChunk));
    },
  };
}

describe('createSockDiagReader', () => {
  const perFamily = () => {
    const tally = newTcpSocketTally(true);
    tallyInetDiagChunk(DIAG4, DIAG4.length, tally, true);
    tallyInetDiagChunk(DIAG6, DIAG6.length, tally, true);
    return tally;
  };

  it('asks once for both families (TCPDIAG_GETSOCK) and tallies what the per-family dumps give', () => {
    const netlink = recordedNetlink(
      Buffer.concat([retyped(withoutDone(DIAG4), TCPDIAG_GETSOCK), retyped(DIAG6, TCPDIAG_GETSOCK)]),
    );
    const reader = createSockDiagReader(netlink);
    const tally = newTcpSocketTally(true);
    reader.tally(tally, true);
    expect(netlink.sent).toEqual([TCPDIAG_GETSOCK]);
    expect(tally).toEqual(perFamily());
    expect(reader.requestKind()).toBe('both-families');
  });

  it('moves to one request per family for good when the kernel refuses the both-families request', () => {
    const refusal = Buffer.alloc(36);
    refusal.writeUInt32LE(36, 0);
    refusal.writeUInt16LE(2, 4); // NLMSG_ERROR
    refusal.writeInt32LE(-22, 16); // -EINVAL
    const netlink = recordedNetlink(refusal);
    const reader = createSockDiagReader(netlink);
    for (let gathering = 0; gathering < 2; gathering++) {
      const tally = newTcpSocketTally(true);
      reader.tally(tally, true);
      expect(tally).toEqual(perFamily());
    }
    expect(netlink.sent).toEqual([
      TCPDIAG_GETSOCK,
      SOCK_DIAG_BY_FAMILY,
      SOCK_DIAG_BY_FAMILY,
      SOCK_DIAG_BY_FAMILY,
      SOCK_DIAG_BY_FAMILY,
    ]);
    expect(reader.requestKind()).toBe('per-family');
  });

  it('tallies off the main thread what it tallies on it, and takes the per-family requests after a refusal', async () => {
    const both = recordedNetlink(
      Buffer.concat([retyped(withoutDone(DIAG4), TCPDIAG_GETSOCK), retyped(DIAG6, TCPDIAG_GETSOCK)]),
    );
    const tally = newTcpSocketTally(true);
    await createSockDiagReader(both).tallyOffThread(tally, true);
    expect(tally).toEqual(perFamily());
    expect(both.sent).toEqual([TCPDIAG_GETSOCK]);

    const refusal = Buffer.alloc(36);
    refusal.writeUInt32LE(36, 0);
    refusal.writeUInt16LE(2, 4); // NLMSG_ERROR
    refusal.writeInt32LE(-22, 16); // -EINVAL
    const refusing = recordedNetlink(refusal);
    const reader = createSockDiagReader(refusing);
    const afterRefusal = newTcpSocketTally(true);
    await reader.tallyOffThread(afterRefusal, true);
    expect(afterRefusal).toEqual(perFamily());
    expect(reader.requestKind()).toBe('per-family');
    expect(refusing.sent).toEqual([TCPDIAG_GETSOCK, SOCK_DIAG_BY_FAMILY, SOCK_DIAG_BY_FAMILY]);
  });

  it('builds the request ss sent before SOCK_DIAG_BY_FAMILY: struct inet_diag_req, every state', () => {
    const request = inetDiagBothFamiliesDumpRequest(3, true);
    expect([request.length, request.readUInt16LE(4), request.readUInt16LE(6), request.readUInt32LE(8)]).toEqual([
      76,
      TCPDIAG_GETSOCK,
      0x301,
      3,
    ]);
    expect(request[16]).toBe(0); // the family: ignored, the kernel dumps AF_UNSPEC
    expect(request.readUInt32LE(16 + 52)).toBe(0x1ffe);
  });

  it('refuses messages of the other request type', () => {
    expect(() => tallyInetDiagChunk(DIAG4, DIAG4.length, newTcpSocketTally(true), true, TCPDIAG_GETSOCK)).toThrow(
      /unexpected message type 20/,
    );
  });
});
