/**
 * UDP sockets on Windows: the rows of GetExtendedUdpTable (UDP_TABLE_OWNER_PID) for IPv4 and IPv6, one row per UDP
 * endpoint bound to an address ("this table contains IPv6 UDP endpoints that have been bound to an address",
 * MIB_UDP6TABLE_OWNER_PID docs). Fills kappie_udp_active_sockets, what Linux reads as sockstat's UDP and UDP6
 * `inuse` (sockets hashed, i.e. bound, in the UDP tables). A dual-stack IPv6 socket is one row of the IPv6 table.
 */
import type { Source } from '../../source';
import { BinaryReader } from './binary-reader';
import { AF_INET, AF_INET6, createIpHelper, type AddressFamily, type IpHelper } from './iphlpapi';

/**
 * Row layouts on x64 (udpmib.h, as Microsoft Learn declares them: learn.microsoft.com/windows/win32/api/udpmib/
 * ns-udpmib-mib_udprow_owner_pid and ns-udpmib-mib_udp6row_owner_pid): a DWORD dwNumEntries, then the rows at offset 4
 * (all members are DWORDs or bytes, so no padding).
 * MIB_UDPROW_OWNER_PID: DWORD dwLocalAddr, dwLocalPort, dwOwningPid (12 bytes).
 * MIB_UDP6ROW_OWNER_PID: UCHAR ucLocalAddr[16], DWORD dwLocalScopeId, dwLocalPort, dwOwningPid (28 bytes).
 */
export const UDP_ROW_LAYOUT: Readonly<Record<AddressFamily, { rowSize: number; name: string }>> = {
  [AF_INET]: { rowSize: 12, name: 'MIB_UDPTABLE_OWNER_PID' },
  [AF_INET6]: { rowSize: 28, name: 'MIB_UDP6TABLE_OWNER_PID' },
};
const TABLE_ROWS_OFFSET = 4;

/**
 * The UDP endpoints of one table: its dwNumEntries, once the buffer is checked to hold that many rows (a ParseError
 * naming the struct otherwise: a cut table never becomes a count). Bytes past the rows (the headroom the size probe
 * leaves) are ignored.
 */
export function countUdpTableRows(bytes: Uint8Array, family: AddressFamily): number {
  const layout = UDP_ROW_LAYOUT[family];
  const reader = new BinaryReader(bytes, layout.name);
  const entries = reader.u32(0, 'dwNumEntries');
  reader.require(TABLE_ROWS_OFFSET, entries * layout.rowSize, `${entries} rows of ${layout.rowSize} bytes`);
  return entries;
}

/** The windows_udp_sockets source (stateless: each gathering reads both tables); `ipHelper` reads them. */
export function createWindowsUdpSocketsSource(ipHelper: Pick<IpHelper, 'readUdpTable'> = createIpHelper()): Source {
  return {
    name: 'windows_udp_sockets',
    description: 'GetExtendedUdpTable (IPv4 and IPv6): UDP sockets in use',
    platforms: ['windows'],
    metrics: ['udpActiveSockets'],
    async collect() {
      const v4 = countUdpTableRows(await ipHelper.readUdpTable(AF_INET), AF_INET);
      const v6 = countUdpTableRows(await ipHelper.readUdpTable(AF_INET6), AF_INET6);
      return { udpActiveSockets: [{ labels: {}, value: v4 + v6 }] };
    },
  };
}
