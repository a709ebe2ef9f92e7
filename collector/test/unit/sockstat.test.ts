import { parseSockstat, SOCKSTAT6_PROTOCOLS, SOCKSTAT_PROTOCOLS } from '../../src/kernel/net-sockstat';
import { udpActiveSockets } from '../../src/sources/linux/sockstat';

describe('udpActiveSockets', () => {
  it('sums UDP over IPv4 and IPv6, and IPv4 alone without IPv6', () => {
    const v4 = parseSockstat(
      'sockets: used 10\nTCP: inuse 1\nUDP: inuse 3 mem 1\n',
      'net/sockstat',
      SOCKSTAT_PROTOCOLS,
    );
    const v6 = parseSockstat('TCP6: inuse 0\nUDP6: inuse 4\n', 'net/sockstat6', SOCKSTAT6_PROTOCOLS);
    expect(udpActiveSockets({ v4, v6 })).toBe(7);
    expect(udpActiveSockets({ v4, v6: undefined })).toBe(3);
  });
});
