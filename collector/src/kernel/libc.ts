/**
 * libc through koffi, for the kernel facilities Node.js has no binding for (netlink sockets, ioctl, setns, madvise,
 * a read(2) that returns EAGAIN instead of throwing). koffi is a foreign function interface that needs no compiler;
 * it is a native module, so it is required here only when a caller first needs libc, never at import time.
 */

/** The part of koffi's API the kernel layer uses (koffi is loaded with require, so it is typed by hand here). */
export interface Koffi {
  load(path: string): LibcLibrary;
  /** errno of the calling thread after the last call. */
  errno(): number;
  alloc(type: string, length: number): unknown;
  free(pointer: unknown): void;
  address(pointer: unknown): bigint;
  view(pointer: unknown, length: number): ArrayBuffer;
  sizeof(type: string): number;
}

/** A loaded C library: `func('int close(int)')` gives a callable. */
export interface LibcLibrary {
  func(signature: string): (...args: unknown[]) => unknown;
}

/**
 * koffi and the C library (glibc's libc.so.6). Throws when koffi is not installed or cannot load libc; callers say
 * what is unavailable without it (a source down, a fallback).
 */
export function loadLibc(): { readonly koffi: Koffi; readonly libc: LibcLibrary } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as Koffi;
  return { koffi, libc: koffi.load('libc.so.6') };
}
