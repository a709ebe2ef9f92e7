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
const NO_ERROR = 0;
const ERROR_INSUFFICIENT_BUFFER = 122;
/** The table can grow between the size probe and the read: try a few times. */
const TABLE_READ_ATTEMPTS = 5;

export const MIB_TCPSTATS_LH_SIZE = 60;
export const MIB_TCPSTATS2_SIZE = 72;

/** The iphlpapi.dll functions, bound through koffi. */
interface IpHelperLibrary {
  readonly koffi: Koffi;
  readonly getExtendedTcpTable: ForeignFunction;
  readonly getTcpStatisticsEx: ForeignFunction;
  /** Absent before Windows 10 1709 / Server 2016 builds that lack it. */
  readonly getTcpStatisticsEx2: ForeignFunction | undefined;
  readonly getIfTable2: ForeignFunction;
  readonly freeMibTable: ForeignFunction;
}

/** The IP Helper reads the Windows sources make; each returns the bytes Windows wrote. */
export interface IpHelper {
  /** GetExtendedTcpTable(family, TCP_TABLE_OWNER_PID_ALL): MIB_TCPTABLE_OWNER_PID or MIB_TCP6TABLE_OWNER_PID bytes. */
  readTcpTable(family: AddressFamily): Promise<Buffer>;
  /** GetTcpStatisticsEx2 where Windows has it, else GetTcpStatisticsEx. */
  readTcpStatistics(family: AddressFamily): Promise<TcpStatisticsBytes>;
  /** GetIfTable2: a copy of the MIB_IF_TABLE2 Windows allocated (which is then freed with FreeMibTable). */
  readIfTable2(): Promise<Buffer>;
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
  };
}

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
    getExtendedTcpTable: lib.func(
      'uint32_t __stdcall GetExtendedTcpTable(void *pTcpTable, _Inout_ uint32_t *pdwSize, int bOrder, uint32_t ulAf, int TableClass, uint32_t Reserved)',
    ),
    getTcpStatisticsEx: lib.func('uint32_t __stdcall GetTcpStatisticsEx(void *Statistics, uint32_t Family)'),
    getTcpStatisticsEx2: optional('uint32_t __stdcall GetTcpStatisticsEx2(void *Statistics, uint32_t Family)'),
    getIfTable2: lib.func('uint32_t __stdcall GetIfTable2(_Out_ void **Table)'),
    freeMibTable: lib.func('void __stdcall FreeMibTable(void *Memory)'),
  };
}

function readTcpTable(api: IpHelperLibrary, family: AddressFamily): Buffer {
  const size = [0];
  let status = api.getExtendedTcpTable(null, size, 0, family, TCP_TABLE_OWNER_PID_ALL, 0) as number;
  for (let attempt = 0; attempt < TABLE_READ_ATTEMPTS; attempt++) {
    if (status !== ERROR_INSUFFICIENT_BUFFER && status !== NO_ERROR) break;
    // A little headroom so connections opened since the probe still fit.
    const buffer = Buffer.alloc((size[0] ?? 0) + 4096);
    size[0] = buffer.length;
    status = api.getExtendedTcpTable(buffer, size, 0, family, TCP_TABLE_OWNER_PID_ALL, 0) as number;
    if (status === NO_ERROR) return buffer.subarray(0, size[0]);
  }
  throw new SourceUnavailableError(`GetExtendedTcpTable(family ${family}) returned error ${status}`);
}

export interface TcpStatisticsBytes {
  /** MIB_TCPSTATS2 (GetTcpStatisticsEx2, 64-bit segment counters) or MIB_TCPSTATS_LH (GetTcpStatisticsEx, 32-bit). */
  readonly layout: 'MIB_TCPSTATS2' | 'MIB_TCPSTATS_LH';
  readonly bytes: Uint8Array;
}

function readTcpStatistics(api: IpHelperLibrary, family: AddressFamily): TcpStatisticsBytes {
  if (api.getTcpStatisticsEx2) {
    const bytes = Buffer.alloc(MIB_TCPSTATS2_SIZE);
    const status = api.getTcpStatisticsEx2(bytes, family) as number;
    if (status === NO_ERROR) return { layout: 'MIB_TCPSTATS2', bytes };
  }
  const bytes = Buffer.alloc(MIB_TCPSTATS_LH_SIZE);
  const status = api.getTcpStatisticsEx(bytes, family) as number;
  if (status !== NO_ERROR) {
    throw new SourceUnavailableError(`GetTcpStatisticsEx(family ${family}) returned error ${status}`);
  }
  return { layout: 'MIB_TCPSTATS_LH', bytes };
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
