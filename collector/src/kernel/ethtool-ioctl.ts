/**
 * Thin I/O for the ethtool ioctl: a datagram socket, and `ioctl(fd, SIOCETHTOOL, struct ifreq *)` through libc with
 * koffi (Node.js has no ioctl; koffi calls libc without compiling anything). Every buffer is encoded and decoded by
 * the pure functions of ethtool.ts.
 *
 * Network namespaces: the kernel looks the interface name up in the namespace of the socket, which is the namespace
 * of the thread that created it. The socket is created in the namespace the proc root shows (kernel/net-namespace.ts:
 * the collector's own for /proc, the target's for `--proc-path /proc/<pid>`), the one /proc/net/dev, read by the
 * other interface sources, describes.
 *
 * `struct ifreq` is IFNAMSIZ name bytes then a union whose `ifr_data` pointer points to the command buffer. The
 * command buffer is allocated with koffi (a stable C address for the kernel to write to), copied in and out.
 */
import { ParseError } from '../errors';
import { inNetNamespace, netNamespaceFile } from './net-namespace';
import { loadLibc } from './libc';
import {
  entriesWithSlack,
  interfaceNameField,
  IFNAMSIZ,
  parseSsetInfo,
  parseStats,
  parseStrings,
  SIOCETHTOOL,
  ssetInfoRequest,
  statsRequest,
  stringsRequest,
} from './ethtool';

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
/** errno values (asm-generic/errno-base.h, errno.h). */
const ENODEV = 19;
const EOPNOTSUPP = 95;

/** One interface's driver statistics as read: names and values in driver order (same length). */
export interface DriverStatisticsRead {
  readonly names: string[];
  readonly values: bigint[];
}

/** What reading an interface gave. */
export type EthtoolReadResult =
  | { readonly kind: 'statistics'; readonly read: DriverStatisticsRead }
  /** The driver has no statistics (lo, bridges, macvlan, tunnels). */
  | { readonly kind: 'none' }
  /** No such interface in the collector's namespace (deleted since it was listed). */
  | { readonly kind: 'gone' };

export interface EthtoolSocket {
  /**
   * Reads `ifname`'s driver statistics. Throws an Error with the errno for any other failure, and a ParseError
   * when the kernel's replies do not decode.
   */
  read(ifname: string): EthtoolReadResult;
  /** Closes the socket. Safe to call twice. */
  close(): void;
}

/** An ioctl failed with `errno`. */
export class EthtoolIoctlError extends Error {
  override readonly name = 'EthtoolIoctlError';
  constructor(
    readonly command: string,
    readonly ifname: string,
    readonly errno: number,
  ) {
    super(`${command} on ${ifname}: errno ${errno}`);
  }
}

/**
 * Opens a socket for ethtool ioctls in the network namespace `procPath`'s `net/` shows (absent: the calling thread's).
 * Throws when koffi or libc cannot be loaded, the namespace cannot be entered, or the socket cannot be created (the
 * source is then reported down with that message).
 */
export function openEthtoolSocket(procPath?: string): EthtoolSocket {
  const { koffi, libc } = loadLibc();
  const socket = libc.func('int socket(int, int, int)');
  const ioctl = libc.func('int ioctl(int, unsigned long, void *)');
  const closeFd = libc.func('int close(int)');
  const pointerBytes = koffi.sizeof('void *');
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const setns = libc.func('int setns(int, int)');
  const open = () => socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number;
  const setnsCall = { setns: (fd: number, nstype: number) => setns(fd, nstype) as number, errno: () => koffi.errno() };
  let fd = procPath === undefined ? open() : inNetNamespace(setnsCall, netNamespaceFile(procPath), open);
  if (fd < 0) throw new Error(`socket for ethtool ioctls: errno ${koffi.errno()}`);

  /** Runs one command: `request` is copied to C memory, handed to the kernel, and its reply copied back. */
  const command = (ifname: string, request: Buffer): Buffer | number => {
    const memory = koffi.alloc('uint8_t', request.length);
    try {
      const view = Buffer.from(koffi.view(memory, request.length));
      request.copy(view);
      // struct ifreq: name, then the ifr_data pointer; 40 bytes on 64-bit (the union's largest member is 24).
      const ifreq = Buffer.alloc(IFNAMSIZ + 24);
      interfaceNameField(ifname).copy(ifreq, 0);
      const address = koffi.address(memory);
      if (pointerBytes === 8) {
        if (littleEndian) ifreq.writeBigUInt64LE(address, IFNAMSIZ);
        else ifreq.writeBigUInt64BE(address, IFNAMSIZ);
      } else if (littleEndian) ifreq.writeUInt32LE(Number(address), IFNAMSIZ);
      else ifreq.writeUInt32BE(Number(address), IFNAMSIZ);
      if ((ioctl(fd, SIOCETHTOOL, ifreq) as number) < 0) return koffi.errno();
      return Buffer.from(view);
    } finally {
      koffi.free(memory);
    }
  };

  const fail = (name: string, ifname: string, errno: number) => new EthtoolIoctlError(name, ifname, errno);

  /** One read of names and values; undefined when the driver's set changed size between the commands. */
  const readOnce = (ifname: string): EthtoolReadResult | undefined => {
    const info = command(ifname, ssetInfoRequest(littleEndian));
    if (info === ENODEV) return { kind: 'gone' };
    if (info === EOPNOTSUPP) return { kind: 'none' };
    if (typeof info === 'number') throw fail('ETHTOOL_GSSET_INFO', ifname, info);
    const count = parseSsetInfo(info, littleEndian);
    if (count === undefined || count === 0) return { kind: 'none' };
    const capacity = entriesWithSlack(count);
    const strings = command(ifname, stringsRequest(count, capacity, littleEndian));
    if (strings === ENODEV) return { kind: 'gone' };
    if (typeof strings === 'number') throw fail('ETHTOOL_GSTRINGS', ifname, strings);
    const stats = command(ifname, statsRequest(count, capacity, littleEndian));
    if (stats === ENODEV) return { kind: 'gone' };
    if (typeof stats === 'number') throw fail('ETHTOOL_GSTATS', ifname, stats);
    const names = parseStrings(strings, littleEndian);
    const values = parseStats(stats, littleEndian);
    // A count other than the one asked for: the driver's set changed between the commands (see ethtool.ts).
    const unchanged = names.length === count && values.length === count;
    return unchanged ? { kind: 'statistics', read: { names, values } } : undefined;
  };

  return {
    read(ifname) {
      // A driver changes its set only when queues are reconfigured: a second read sees the new set.
      const result = readOnce(ifname) ?? readOnce(ifname);
      if (!result) throw new ParseError('ethtool', `${ifname}: the driver's statistics changed between two reads`);
      return result;
    },
    close() {
      if (fd >= 0) closeFd(fd);
      fd = -1;
    },
  };
}
