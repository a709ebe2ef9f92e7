import fc from 'fast-check';
import { ParseError } from '../../../src/errors';
import { AF_INET, AF_INET6 } from '../../../src/sources/windows/iphlpapi';
import { countUdpTableRows, createWindowsUdpSocketsSource } from '../../../src/sources/windows/udp-sockets';
import { portField, udp6TableOwnerPid, udpTableOwnerPid } from '../../helpers/windows-structs';

describe('countUdpTableRows', () => {
  it('counts the rows of MIB_UDPTABLE_OWNER_PID (12-byte rows) and MIB_UDP6TABLE_OWNER_PID (28-byte rows)', () => {
    const v4 = udpTableOwnerPid([
      { localPort: portField(53) },
      { localAddress: [10, 0, 0, 4], localPort: portField(123) },
    ]);
    const v6 = udp6TableOwnerPid([{ localPort: portField(5353) }, {}, {}]);
    expect(v4.length).toBe(4 + 2 * 12);
    expect(v6.length).toBe(4 + 3 * 28);
    expect(countUdpTableRows(v4, AF_INET)).toBe(2);
    expect(countUdpTableRows(v6, AF_INET6)).toBe(3);
    expect(countUdpTableRows(udpTableOwnerPid([]), AF_INET)).toBe(0);
  });

  it('accepts the headroom the size probe leaves after the rows', () => {
    expect(countUdpTableRows(Buffer.concat([udpTableOwnerPid([{}]), Buffer.alloc(4096)]), AF_INET)).toBe(1);
  });

  it('rejects a table that holds fewer rows than dwNumEntries says, naming the struct', () => {
    // Three IPv4 rows are 40 bytes: read as the IPv6 table they would be one row and a bit.
    expect(() => countUdpTableRows(udpTableOwnerPid([{}, {}, {}]), AF_INET6)).toThrow(
      new ParseError(
        'MIB_UDP6TABLE_OWNER_PID',
        'truncated: 3 rows of 28 bytes needs bytes 4..88 but the buffer has 40',
      ),
    );
    expect(() => countUdpTableRows(Buffer.alloc(2), AF_INET)).toThrow(/truncated: dwNumEntries/);
  });

  it('counts exactly the rows of any table, or throws a ParseError when cut short (fuzz)', () => {
    const rows = fc.array(fc.record({ localPort: fc.nat(0xffffffff), pid: fc.nat(0xffffffff) }), { maxLength: 40 });
    fc.assert(
      fc.property(rows, fc.boolean(), fc.nat(), (list, v6, cutSeed) => {
        const family = v6 ? AF_INET6 : AF_INET;
        const bytes = v6 ? udp6TableOwnerPid(list) : udpTableOwnerPid(list);
        expect(countUdpTableRows(bytes, family)).toBe(list.length);
        expect(() => countUdpTableRows(bytes.subarray(0, cutSeed % bytes.length), family)).toThrow(ParseError);
      }),
    );
  });
});

describe('windows_udp_sockets', () => {
  it('exports the IPv4 and IPv6 endpoints together as kappie_udp_active_sockets', async () => {
    const source = createWindowsUdpSocketsSource({
      readUdpTable: async (family) => (family === AF_INET ? udpTableOwnerPid([{}, {}]) : udp6TableOwnerPid([{}])),
    });
    expect((await source.collect({} as never)).udpActiveSockets).toEqual([{ labels: {}, value: 3 }]);
    expect(source.metrics).toEqual(['udpActiveSockets']);
  });
});
