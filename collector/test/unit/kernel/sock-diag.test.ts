import {
  inetDiagBothFamiliesDumpRequest,
  SOCK_DIAG_BY_FAMILY,
  tallyInetDiagChunk,
  TCPDIAG_GETSOCK,
} from '../../../src/kernel/inet-diag';
import { createSockDiagReader } from '../../../src/kernel/sock-diag';
import { newTcpSocketTally } from '../../../src/kernel/tcp-table';
import { DIAG4, DIAG6, recordedNetlink, retyped, withoutDone } from '../../helpers/recorded-sock-diag';

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
    expect([both.offThreadSent, both.sent]).toEqual([[TCPDIAG_GETSOCK], []]);

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
    expect([refusing.offThreadSent, refusing.sent]).toEqual([
      [TCPDIAG_GETSOCK],
      [SOCK_DIAG_BY_FAMILY, SOCK_DIAG_BY_FAMILY],
    ]);
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
