/**
 * Builds the byte images of Windows IP Helper structs field by field, in the field order of Microsoft's documented
 * declarations (tcpmib.h, netioapi.h, ...), with x64 natural alignment computed here, independently of the offsets
 * the decoders use. A decoder that reads a field from the wrong place fails these tests.
 */

export class StructWriter {
  private readonly chunks: number[] = [];

  get length(): number {
    return this.chunks.length;
  }

  /** Pads to a multiple of `alignment` bytes (natural alignment of the next field). */
  align(alignment: number): this {
    while (this.chunks.length % alignment !== 0) this.chunks.push(0);
    return this;
  }

  u8(value: number): this {
    this.chunks.push(value & 0xff);
    return this;
  }

  u32(value: number): this {
    this.align(4);
    for (let i = 0; i < 4; i++) this.chunks.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
    return this;
  }

  u64(value: number | bigint): this {
    this.align(8);
    let big = BigInt(value);
    for (let i = 0; i < 8; i++) {
      this.chunks.push(Number(big & 0xffn));
      big >>= 8n;
    }
    return this;
  }

  bytes(values: readonly number[], length = values.length): this {
    for (let i = 0; i < length; i++) this.chunks.push(values[i] ?? 0);
    return this;
  }

  /** A GUID: DWORD, WORD, WORD, BYTE[8] (4-byte aligned, 16 bytes). */
  guid(): this {
    this.align(4);
    return this.bytes([], 16);
  }

  /** WCHAR[count], NUL-terminated UTF-16LE. */
  wchars(text: string, count: number): this {
    const encoded = Buffer.from(text, 'utf16le');
    if (encoded.length >= count * 2) throw new Error(`"${text}" does not fit in WCHAR[${count}]`);
    this.align(2);
    return this.bytes([...encoded], count * 2);
  }

  toBuffer(): Buffer {
    return Buffer.from(this.chunks);
  }
}

export interface TcpRow {
  state: number;
  localPort?: number;
  remotePort?: number;
  pid?: number;
}

/** MIB_TCPTABLE_OWNER_PID: DWORD dwNumEntries; MIB_TCPROW_OWNER_PID table[]. */
export function tcpTableOwnerPid(rows: readonly TcpRow[]): Buffer {
  const w = new StructWriter().u32(rows.length);
  for (const row of rows) {
    w.u32(row.state) // dwState
      .u32(0x0100007f) // dwLocalAddr 127.0.0.1 in network byte order
      .u32(row.localPort ?? 0x5000) // dwLocalPort
      .u32(0x0100007f) // dwRemoteAddr
      .u32(row.remotePort ?? 0) // dwRemotePort
      .u32(row.pid ?? 4); // dwOwningPid
  }
  return w.toBuffer();
}

/** MIB_TCP6TABLE_OWNER_PID: DWORD dwNumEntries; MIB_TCP6ROW_OWNER_PID table[]. */
export function tcp6TableOwnerPid(rows: readonly TcpRow[]): Buffer {
  const w = new StructWriter().u32(rows.length);
  const loopback = [...new Array<number>(15).fill(0), 1];
  for (const row of rows) {
    w.bytes(loopback) // ucLocalAddr[16]
      .u32(0) // dwLocalScopeId
      .u32(row.localPort ?? 0x5000) // dwLocalPort
      .bytes(loopback) // ucRemoteAddr[16]
      .u32(0) // dwRemoteScopeId
      .u32(row.remotePort ?? 0) // dwRemotePort
      .u32(row.state) // dwState
      .u32(row.pid ?? 4); // dwOwningPid
  }
  return w.toBuffer();
}

export interface TcpStats {
  activeOpens: number;
  passiveOpens: number;
  attemptFails: number;
  estabResets: number;
  currEstab: number;
  inSegs: number | bigint;
  outSegs: number | bigint;
  retransSegs: number;
  inErrs: number;
  outRsts: number;
  numConns: number;
}

/** MIB_TCPSTATS_LH: 15 DWORDs. */
export function mibTcpStatsLh(s: TcpStats): Buffer {
  return new StructWriter()
    .u32(4) // dwRtoAlgorithm (union with RtoAlgorithm): MIB_TCP_RTO_VANJ
    .u32(300) // dwRtoMin
    .u32(120000) // dwRtoMax
    .u32(0xffffffff) // dwMaxConn: -1, variable
    .u32(s.activeOpens)
    .u32(s.passiveOpens)
    .u32(s.attemptFails)
    .u32(s.estabResets)
    .u32(s.currEstab)
    .u32(Number(s.inSegs))
    .u32(Number(s.outSegs))
    .u32(s.retransSegs)
    .u32(s.inErrs)
    .u32(s.outRsts)
    .u32(s.numConns)
    .toBuffer();
}

/** MIB_TCPSTATS2: as MIB_TCPSTATS_LH but DWORD64 dw64InSegs and dw64OutSegs. */
export function mibTcpStats2(s: TcpStats): Buffer {
  return new StructWriter()
    .u32(4) // RtoAlgorithm
    .u32(300) // dwRtoMin
    .u32(120000) // dwRtoMax
    .u32(0xffffffff) // dwMaxConn
    .u32(s.activeOpens)
    .u32(s.passiveOpens)
    .u32(s.attemptFails)
    .u32(s.estabResets)
    .u32(s.currEstab)
    .u64(s.inSegs) // dw64InSegs (8-byte aligned: 4 bytes of padding before it)
    .u64(s.outSegs) // dw64OutSegs
    .u32(s.retransSegs)
    .u32(s.inErrs)
    .u32(s.outRsts)
    .u32(s.numConns)
    .align(8) // sizeof is a multiple of the struct's alignment
    .toBuffer();
}

export interface IfRowSpec {
  /** NET_LUID; by default IfType in bits 48-63 and NetLuidIndex = index in bits 24-47. */
  luid?: bigint;
  index: number;
  alias: string;
  description?: string;
  type?: number;
  hardware?: boolean;
  filter?: boolean;
  operStatus?: number;
  inOctets?: number | bigint;
  inUcastPkts?: number | bigint;
  inNUcastPkts?: number | bigint;
  inDiscards?: number;
  inErrors?: number;
  inUnknownProtos?: number;
  outOctets?: number | bigint;
  outUcastPkts?: number | bigint;
  outNUcastPkts?: number | bigint;
  outDiscards?: number;
  outErrors?: number;
}

/** MIB_IF_ROW2 in the documented field order. */
export function writeIfRow2(w: StructWriter, r: IfRowSpec): void {
  const start = w.length;
  w.u64(r.luid ?? (BigInt(r.type ?? 6) << 48n) | (BigInt(r.index) << 24n)) // InterfaceLuid (NET_LUID, a ULONG64)
    .u32(r.index) // InterfaceIndex
    .guid() // InterfaceGuid
    .wchars(r.alias, 257) // Alias[IF_MAX_STRING_SIZE + 1]
    .wchars(r.description ?? `${r.alias} adapter`, 257) // Description
    .u32(6) // PhysicalAddressLength
    .bytes([0x00, 0x15, 0x5d, 0x01, 0x02, r.index & 0xff], 32) // PhysicalAddress[IF_MAX_PHYS_ADDRESS_LENGTH]
    .bytes([0x00, 0x15, 0x5d, 0x01, 0x02, r.index & 0xff], 32) // PermanentPhysicalAddress
    .u32(1500) // Mtu
    .u32(r.type ?? 6) // Type (IF_TYPE_ETHERNET_CSMACD)
    .u32(0) // TunnelType
    .u32(0) // MediaType
    .u32(0) // PhysicalMediumType
    .u32(1) // AccessType
    .u32(0) // DirectionType
    .u8((r.hardware ? 0x01 : 0) | (r.filter ? 0x02 : 0) | 0x04) // InterfaceAndOperStatusFlags bit fields
    .u32(r.operStatus ?? 1) // OperStatus
    .u32(1) // AdminStatus
    .u32(1) // MediaConnectState
    .guid() // NetworkGuid
    .u32(1) // ConnectionType
    .u64(10_000_000_000) // TransmitLinkSpeed
    .u64(10_000_000_000) // ReceiveLinkSpeed
    .u64(r.inOctets ?? 0)
    .u64(r.inUcastPkts ?? 0)
    .u64(r.inNUcastPkts ?? 0)
    .u64(r.inDiscards ?? 0)
    .u64(r.inErrors ?? 0)
    .u64(r.inUnknownProtos ?? 0)
    .u64(0) // InUcastOctets
    .u64(0) // InMulticastOctets
    .u64(0) // InBroadcastOctets
    .u64(r.outOctets ?? 0)
    .u64(r.outUcastPkts ?? 0)
    .u64(r.outNUcastPkts ?? 0)
    .u64(r.outDiscards ?? 0)
    .u64(r.outErrors ?? 0)
    .u64(0) // OutUcastOctets
    .u64(0) // OutMulticastOctets
    .u64(0) // OutBroadcastOctets
    .u64(0) // OutQLen
    .align(8);
  if (w.length - start !== 1352) throw new Error(`MIB_IF_ROW2 built as ${w.length - start} bytes, not 1352`);
}

/** MIB_IF_TABLE2: ULONG NumEntries; MIB_IF_ROW2 Table[] (8-byte aligned, so rows start at offset 8). */
export function mibIfTable2(rows: readonly IfRowSpec[]): Buffer {
  const w = new StructWriter().u32(rows.length).align(8);
  for (const row of rows) writeIfRow2(w, row);
  return w.toBuffer();
}
