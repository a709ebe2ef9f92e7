/**
 * The IP Helper API (iphlpapi.dll) through koffi: thin I/O only. Each read fills or copies a buffer exactly as
 * Windows wrote it and returns the bytes; the decoders next to the sources read them (and are tested on Linux).
 *
 * koffi is imported lazily, on an IpHelper's first read and only on win32, so Linux never loads a native FFI module it
 * does not need. Each IpHelper (createIpHelper) keeps its loaded library in its own closure: nothing lives at module
 * level. The FFI stays on the main thread (koffi crashes were reported from worker threads).
 */
import type * as KoffiModule from 'koffi' with { 'resolution-mode': 'require' };
import { SourceUnavailableError } from '../../errors';

type Koffi = typeof KoffiModule;
type ForeignFunction = ReturnType<KoffiModule.LibraryHandle['func']>;

/** Address families as Windows numbers them (ws2def.h): AF_INET6 is 23 on Windows, not 10. */
export const AF_INET = 2;
export const AF_INET6 = 23;
export type AddressFamily = typeof AF_INET | typeof AF_INET6;

/** TCP_TABLE_CLASS (iprtrmib.h): every connection and listener, rows of MIB_TCPROW_OWNER_PID / MIB_TCP6ROW_OWNER_PID. */
const TCP_TABLE_OWNER_PID_ALL = 5;
/**
 * UDP_TABLE_CLASS (iprtrmib.h: UDP_TABLE_BASIC, UDP_TABLE_OWNER_PID, UDP_TABLE_OWNER_MODULE, numbered from 0;
 * learn.microsoft.com/windows/win32/api/iprtrmib/ne-iprtrmib-udp_table_class): every UDP endpoint, rows of
 * MIB_UDPROW_OWNER_PID / MIB_UDP6ROW_OWNER_PID.
 */
const UDP_TABLE_OWNER_PID = 1;
const NO_ERROR = 0;
const ERROR_INSUFFICIENT_BUFFER = 122;
/** The table can grow between the size probe and the read: try a few times. */
const TABLE_READ_ATTEMPTS = 5;

export const MIB_TCPSTATS_LH_SIZE = 60;
export const MIB_TCPSTATS2_SIZE = 72;
/** MIB_IPSTATS_LH (ipmib.h): 23 DWORDs. */
export const MIB_IPSTATS_LH_SIZE = 92;
/** MIB_ICMP_EX_XPSP1 (ipmib.h): two MIBICMPSTATS_EX_XPSP1 of DWORD dwMsgs, dwErrors, rgdwTypeCount[256]. */
export const MIB_ICMP_EX_SIZE = 2 * (8 + 256 * 4);
/** MIB_UDPSTATS (udpmib.h): 5 DWORDs. */
export const MIB_UDPSTATS_SIZE = 20;
/** MIB_UDPSTATS2 (udpmib.h): DWORD64, 2 DWORDs, DWORD64, DWORD, padded to a multiple of 8 on x64. */
export const MIB_UDPSTATS2_SIZE = 32;

/** The iphlpapi.dll functions, bound through koffi. */
interface IpHelperLibrary {
  readonly koffi: Koffi;
  readonly getExtendedTcpTable: ForeignFunction;
  readonly getTcpStatisticsEx: ForeignFunction;
  /** Absent before Windows 10 1709 / Server 2016 builds that lack it. */
  readonly getTcpStatisticsEx2: ForeignFunction | undefined;
  readonly getIfTable2: ForeignFunction;
  readonly freeMibTable: ForeignFunction;
  readonly getExtendedUdpTable: ForeignFunction;
  readonly getIpStatisticsEx: ForeignFunction;
  readonly getIcmpStatisticsEx: ForeignFunction;
  readonly getUdpStatisticsEx: ForeignFunction;
  /** Absent before Windows 10 1709 / Server 2016 builds that lack it. */
  readonly getUdpStatisticsEx2: ForeignFunction | undefined;
}

/** The IP Helper reads the Windows sources make; each returns the bytes Windows wrote. */
export interface IpHelper {
  /** GetExtendedTcpTable(family, TCP_TABLE_OWNER_PID_ALL): MIB_TCPTABLE_OWNER_PID or MIB_TCP6TABLE_OWNER_PID bytes. */
  readTcpTable(family: AddressFamily): Promise<Buffer>;
  /** GetTcpStatisticsEx2 where Windows has it, else GetTcpStatisticsEx. */
  readTcpStatistics(family: AddressFamily): Promise<TcpStatisticsBytes>;
  /** GetIfTable2: a copy of the MIB_IF_TABLE2 Windows allocated (which is then freed with FreeMibTable). */
  readIfTable2(): Promise<Buffer>;
  /** GetExtendedUdpTable(family, UDP_TABLE_OWNER_PID): MIB_UDPTABLE_OWNER_PID or MIB_UDP6TABLE_OWNER_PID bytes. */
  readUdpTable(family: AddressFamily): Promise<Buffer>;
  /** GetIpStatisticsEx: MIB_IPSTATS_LH bytes (there is no 64-bit variant). */
  readIpStatistics(family: AddressFamily): Promise<Buffer>;
  /** GetIcmpStatisticsEx: MIB_ICMP_EX_XPSP1 bytes (ICMPv4 for AF_INET, ICMPv6 for AF_INET6). */
  readIcmpStatistics(family: AddressFamily): Promise<Buffer>;
  /** GetUdpStatisticsEx2 where Windows has it, else GetUdpStatisticsEx. */
  readUdpStatistics(family: AddressFamily): Promise<UdpStatisticsBytes>;
}

/**
 * An IP Helper whose library is loaded on its first read and kept for its own reads (a failed load is tried again at
 * the next read). Off Windows every read fails with a SourceUnavailableError, and koffi is never imported.
 */
export function createIpHelper(): IpHelper {
  let loading: Promise<IpHelperLibrary> | undefined;
  const library = (): Promise<IpHelperLibrary> => {
    if (process.platform !== 'win32') {
      return Promise.reject(new SourceUnavailableError('iphlpapi.dll exists only on Windows'));
    }
    loading ??= loadLibrary().catch((error: unknown) => {
      loading = undefined;
      throw new SourceUnavailableError(`cannot load iphlpapi.dll through koffi: ${(error as Error).message}`);
    });
    return loading;
  };
  return {
    readTcpTable: async (family) => readTcpTable(await library(), family),
    readTcpStatistics: async (family) => readTcpStatistics(await library(), family),
    readIfTable2: async () => readIfTable2(await library()),
    readUdpTable: async (family) => readUdpTable(await library(), family),
    readIpStatistics: async (family) =>
      readFixedStruct((await library()).getIpStatisticsEx, 'GetIpStatisticsEx', MIB_IPSTATS_LH_SIZE, family),
    readIcmpStatistics: async (family) =>
      readFixedStruct((await library()).getIcmpStatisticsEx, 'GetIcmpStatisticsEx', MIB_ICMP_EX_SIZE, family),
    readUdpStatistics: async (family) => readUdpStatistics(await library(), family),
  };
}

/**
 * The prototype every statistics call shares: it fills the caller's struct for one address family and returns a
 * Win32 error code (NO_ERROR on success).
 */
const statisticsCall = (name: string) => `uint32_t __stdcall ${name}(void *Statistics, uint32_t Family)`;
/** GetExtendedTcpTable and GetExtendedUdpTable: the same parameters (a size probe first, see readExtendedTable). */
const extendedTableCall = (name: string) =>
  `uint32_t __stdcall ${name}(void *pTable, _Inout_ uint32_t *pdwSize, int bOrder, uint32_t ulAf, int TableClass, uint32_t Reserved)`;

async function loadLibrary(): Promise<IpHelperLibrary> {
  const imported = (await import('koffi')) as Koffi & { default?: Koffi };
  const koffi = imported.default ?? imported;
  const lib = koffi.load('iphlpapi.dll');
  const optional = (prototype: string) => {
    try {
      return lib.func(prototype);
    } catch {
      return undefined;
    }
  };
  return {
    koffi,
    getExtendedTcpTable: lib.func(extendedTableCall('GetExtendedTcpTable')),
    getTcpStatisticsEx: lib.func(statisticsCall('GetTcpStatisticsEx')),
    getTcpStatisticsEx2: optional(statisticsCall('GetTcpStatisticsEx2')),
    getIfTable2: lib.func('uint32_t __stdcall GetIfTable2(_Out_ void **Table)'),
    freeMibTable: lib.func('void __stdcall FreeMibTable(void *Memory)'),
    getExtendedUdpTable: lib.func(extendedTableCall('GetExtendedUdpTable')),
    getIpStatisticsEx: lib.func(statisticsCall('GetIpStatisticsEx')),
    getIcmpStatisticsEx: lib.func(statisticsCall('GetIcmpStatisticsEx')),
    getUdpStatisticsEx: lib.func(statisticsCall('GetUdpStatisticsEx')),
    getUdpStatisticsEx2: optional(statisticsCall('GetUdpStatisticsEx2')),
  };
}

function readTcpTable(api: IpHelperLibrary, family: AddressFamily): Buffer {
  return readExtendedTable(api.getExtendedTcpTable, 'GetExtendedTcpTable', TCP_TABLE_OWNER_PID_ALL, family);
}

function readUdpTable(api: IpHelperLibrary, family: AddressFamily): Buffer {
  return readExtendedTable(api.getExtendedUdpTable, 'GetExtendedUdpTable', UDP_TABLE_OWNER_PID, family);
}

/**
 * GetExtendedTcpTable and GetExtendedUdpTable share their signature and protocol: a size probe answered with
 * ERROR_INSUFFICIENT_BUFFER and the size needed, then the read, tried again while the table outgrows the buffer.
 */
function readExtendedTable(getTable: ForeignFunction, name: string, tableClass: number, family: AddressFamily): Buffer {
  const size = [0];
  let status = getTable(null, size, 0, family, tableClass, 0) as number;
  for (let attempt = 0; attempt < TABLE_READ_ATTEMPTS; attempt++) {
    if (status !== ERROR_INSUFFICIENT_BUFFER && status !== NO_ERROR) break;
    // A little headroom so sockets opened since the probe still fit.
    const buffer = Buffer.alloc((size[0] ?? 0) + 4096);
    size[0] = buffer.length;
    status = getTable(buffer, size, 0, family, tableClass, 0) as number;
    if (status === NO_ERROR) return buffer.subarray(0, size[0]);
  }
  throw new SourceUnavailableError(`${name}(family ${family}) returned error ${status}`);
}

/** A statistics call that fills a caller-allocated struct of a fixed size for one address family. */
function readFixedStruct(getStatistics: ForeignFunction, name: string, size: number, family: AddressFamily): Buffer {
  const bytes = Buffer.alloc(size);
  const status = getStatistics(bytes, family) as number;
  if (status !== NO_ERROR) throw new SourceUnavailableError(`${name}(family ${family}) returned error ${status}`);
  return bytes;
}

export interface TcpStatisticsBytes {
  /** MIB_TCPSTATS2 (GetTcpStatisticsEx2, 64-bit segment counters) or MIB_TCPSTATS_LH (GetTcpStatisticsEx, 32-bit). */
  readonly layout: 'MIB_TCPSTATS2' | 'MIB_TCPSTATS_LH';
  readonly bytes: Uint8Array;
}

/** A statistics call and the struct it fills. */
interface StatisticsCall<Layout extends string> {
  readonly call: ForeignFunction;
  readonly name: string;
  readonly layout: Layout;
  readonly size: number;
}

/**
 * The struct of the 64-bit `wide` call (an *Ex2) where Windows has it and it succeeds, else the 32-bit struct of
 * `narrow` (its *Ex), whose failure throws a SourceUnavailableError.
 */
function readWidestStatistics<Wide extends string, Narrow extends string>(
  wide: Omit<StatisticsCall<Wide>, 'name'> | undefined,
  narrow: StatisticsCall<Narrow>,
  family: AddressFamily,
): { layout: Wide | Narrow; bytes: Uint8Array } {
  if (wide) {
    const bytes = Buffer.alloc(wide.size);
    const status = wide.call(bytes, family) as number;
    if (status === NO_ERROR) return { layout: wide.layout, bytes };
  }
  return { layout: narrow.layout, bytes: readFixedStruct(narrow.call, narrow.name, narrow.size, family) };
}

function readTcpStatistics(api: IpHelperLibrary, family: AddressFamily): TcpStatisticsBytes {
  const wide = api.getTcpStatisticsEx2;
  return readWidestStatistics(
    wide && { call: wide, layout: 'MIB_TCPSTATS2', size: MIB_TCPSTATS2_SIZE },
    { call: api.getTcpStatisticsEx, name: 'GetTcpStatisticsEx', layout: 'MIB_TCPSTATS_LH', size: MIB_TCPSTATS_LH_SIZE },
    family,
  );
}

export interface UdpStatisticsBytes {
  /** MIB_UDPSTATS2 (GetUdpStatisticsEx2, 64-bit datagram counters) or MIB_UDPSTATS (GetUdpStatisticsEx, 32-bit). */
  readonly layout: 'MIB_UDPSTATS2' | 'MIB_UDPSTATS';
  readonly bytes: Uint8Array;
}

function readUdpStatistics(api: IpHelperLibrary, family: AddressFamily): UdpStatisticsBytes {
  const wide = api.getUdpStatisticsEx2;
  return readWidestStatistics(
    wide && { call: wide, layout: 'MIB_UDPSTATS2', size: MIB_UDPSTATS2_SIZE },
    { call: api.getUdpStatisticsEx, name: 'GetUdpStatisticsEx', layout: 'MIB_UDPSTATS', size: MIB_UDPSTATS_SIZE },
    family,
  );
}

/** Bytes of a MIB_IF_ROW2 row on x64, and where the rows start in MIB_IF_TABLE2 (after NumEntries and padding). */
export const MIB_IF_ROW2_SIZE = 1352;
export const MIB_IF_TABLE2_ROWS_OFFSET = 8;

function readIfTable2(api: IpHelperLibrary): Buffer {
  const table: unknown[] = [null];
  const status = api.getIfTable2(table) as number;
  if (status !== NO_ERROR) throw new SourceUnavailableError(`GetIfTable2 returned error ${status}`);
  const pointer = table[0];
  try {
    const entries = api.koffi.decode(pointer, 'uint32_t') as number;
    const size = MIB_IF_TABLE2_ROWS_OFFSET + entries * MIB_IF_ROW2_SIZE;
    const copy = api.koffi.decode(pointer, api.koffi.array('uint8_t', size, 'Typed')) as Uint8Array;
    return Buffer.from(copy);
  } finally {
    api.freeMibTable(pointer);
  }
}
