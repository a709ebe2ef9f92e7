/**
 * A netlink client answering sock_diag dumps from the recordings of a real namespace's TCP sockets
 * (fixtures/linux/tcp-netns-a.diag4 and .diag6, dumped with SOCK_DIAG_BY_FAMILY), for tests of what reads them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK } from '../../src/kernel/inet-diag';
import type { Netlink, NetlinkChunkHandler } from '../../src/kernel/netlink-socket';
import { FIXTURES } from './fixtures';

const recorded = (name: string) => fs.readFileSync(path.join(FIXTURES, 'linux', name));

export const DIAG4 = recorded('tcp-netns-a.diag4');
export const DIAG6 = recorded('tcp-netns-a.diag6');

/** The messages of a recorded dump with their type changed (the answer to another request type). */
export function retyped(dump: Buffer, type: number): Buffer {
  const bytes = Buffer.from(dump);
  for (let at = 0; at < bytes.length; at += (bytes.readUInt32LE(at) + 3) & ~3) {
    if (bytes.readUInt16LE(at + 4) === SOCK_DIAG_BY_FAMILY) bytes.writeUInt16LE(type, at + 4);
  }
  return bytes;
}

/** The recorded dump without its final NLMSG_DONE (20 bytes: header and the int). */
export const withoutDone = (dump: Buffer) => dump.subarray(0, dump.length - 20);

/** The two recordings as the kernel's TCPDIAG_GETSOCK answers them: one stream, that message type, one NLMSG_DONE. */
export const BOTH_FAMILIES = Buffer.concat([
  retyped(withoutDone(DIAG4), TCPDIAG_GETSOCK),
  retyped(DIAG6, TCPDIAG_GETSOCK),
]);

/** What a recorded client was asked: each request's message type, by the call that sent it. */
export interface RecordedNetlink extends Netlink {
  readonly sent: number[];
  readonly offThreadSent: number[];
}

/**
 * A Netlink that answers the both-families request with `bothFamilies` and the per-family requests with their
 * recordings, on the calling thread for dump() and after a turn of the event loop for dumpOffThread(). `failOffThread`
 * and `failOnMain` make the one or the other reject or throw with that message instead.
 */
export function recordedNetlink(
  bothFamilies: Buffer = BOTH_FAMILIES,
  failures: { failOffThread?: string; failOnMain?: string } = {},
): RecordedNetlink {
  const sent: number[] = [];
  const offThreadSent: number[] = [];
  const answer = (request: Buffer, onChunk: NetlinkChunkHandler) => {
    const type = request.readUInt16LE(4);
    const recording = type === TCPDIAG_GETSOCK ? bothFamilies : request[16] === 2 ? DIAG4 : DIAG6;
    if (!onChunk(Buffer.from(recording), recording.length, true)) throw new Error('the recording did not end the dump');
  };
  return {
    sent,
    offThreadSent,
    dump(_protocol, _what, requests, onChunk) {
      for (const request of requests) {
        sent.push(request.readUInt16LE(4));
        if (failures.failOnMain !== undefined) throw new Error(failures.failOnMain);
        answer(request, onChunk);
      }
    },
    dumpOffThread(_protocol, _what, request, onChunk) {
      offThreadSent.push(request.readUInt16LE(4));
      return new Promise((resolve) => setImmediate(resolve)).then(() => {
        if (failures.failOffThread !== undefined) throw new Error(failures.failOffThread);
        answer(request, onChunk);
      });
    },
    close() {
      // A recording keeps no socket.
    },
  };
}
