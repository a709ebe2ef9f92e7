/**
 * Which network namespace a proc root shows, and entering it to open a socket there.
 *
 * Files under `<proc root>/net/` show one network namespace: with `--proc-path /proc/<pid>` the namespace of that
 * process, with `/proc` (or a host's procfs mounted at `/host/proc`) the reader's own (`net` is a link to
 * `self/net`). A netlink socket, by contrast, answers for the namespace it was created in: the collector's, unless
 * it is created inside another. So a netlink reader asks `netNamespaceFile(procPath)` for the namespace the files
 * show and opens its socket there (`inNetNamespace`), and every family of one gathering comes from one namespace.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** setns(2) nstype for a network namespace (include/uapi/linux/sched.h). */
export const CLONE_NEWNET = 0x40000000;

/** The calling thread's own network namespace (setns acts on one thread, so the thread's, not the process's). */
const OWN_NET_NAMESPACE = '/proc/thread-self/ns/net';

/**
 * The `ns/net` file of the namespace `<procPath>/net` shows: the directory `net` resolves into (following `self` and
 * `thread-self` links), then its `ns/net` (e.g. `/proc/1234/ns/net`). Throws the file system error when `net` cannot
 * be resolved (a --proc-path that does not exist).
 */
export function netNamespaceFile(procPath: string): string {
  return path.join(path.dirname(fs.realpathSync.native(path.join(procPath, 'net'))), 'ns', 'net');
}

/** True when two stats name the same file (a namespace file is one inode of nsfs). */
function sameFile(a: fs.Stats, b: fs.Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** statfs(2) f_type of a procfs mount (include/uapi/linux/magic.h). */
const PROC_SUPER_MAGIC = 0x9fa0;

/** What `<proc root>/net` links to in a procfs (fs/proc/proc_net.c): the reading process's own net/ directory. */
const OWN_NET_LINK = 'self/net';

/** True when `procPath` is a mounted procfs (statfs), false for anything else or a path that cannot be reached. */
export function isProcfs(procPath: string): boolean {
  try {
    return fs.statfsSync(procPath).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/**
 * True when `procPath` is a procfs mount whose `net` is the kernel's `self/net` link (`/proc`, a host's procfs at
 * `/host/proc`): its files always show the reading thread's own namespace, so a socket for them needs no namespace
 * switch. False for `/proc/<pid>`, a directory of copies, or a path that cannot be read.
 */
export function showsOwnNamespace(procPath: string): boolean {
  if (!isProcfs(procPath)) return false;
  try {
    return fs.readlinkSync(path.join(procPath, 'net')) === OWN_NET_LINK;
  } catch {
    return false;
  }
}

/**
 * True when `<procPath>/net` shows the calling thread's own network namespace: the live procfs, or `/proc/<pid>` of a
 * process in the same namespace. False for another namespace's process, or a proc root that cannot be resolved
 * (copies of the files: they show no namespace).
 */
export function showsSameNamespace(procPath: string): boolean {
  try {
    return sameFile(fs.statSync(netNamespaceFile(procPath)), fs.statSync(OWN_NET_NAMESPACE));
  } catch {
    return false;
  }
}

/** What `inNetNamespace` needs of libc. */
export interface SetnsCall {
  /** setns(2): 0 on success, -1 with errno set. */
  setns(fd: number, nstype: number): number;
  errno(): number;
}

/**
 * Runs `open` (which creates a socket and returns its descriptor) with the calling thread inside the network namespace
 * of `namespaceFile`, then returns the thread to its own namespace. A socket keeps the namespace it was created in,
 * so the descriptor answers for the target from then on. `open` runs synchronously on this thread: no other
 * JavaScript, and no other socket of this thread, is created meanwhile (libuv's pool threads keep their namespace).
 * When the target is the thread's own namespace, `open` just runs. Throws when the namespace cannot be entered
 * (EPERM without CAP_SYS_ADMIN, the process gone), naming the file and the errno.
 */
export function inNetNamespace(libc: SetnsCall, namespaceFile: string, open: () => number): number {
  const target = fs.openSync(namespaceFile, 'r');
  try {
    const own = fs.openSync(OWN_NET_NAMESPACE, 'r');
    try {
      if (sameFile(fs.fstatSync(target), fs.fstatSync(own))) return open();
      if (libc.setns(target, CLONE_NEWNET) !== 0) {
        throw new Error(
          `cannot enter the network namespace ${namespaceFile} (setns errno ${libc.errno()}): ` +
            'netlink reads another namespace only with CAP_SYS_ADMIN',
        );
      }
      // Never expected to fail (the thread was there a moment ago, with the same privileges). Staying in the target
      // would put every later socket of this thread there: an error rather than counting the wrong namespace.
      const returnHome = () => {
        if (libc.setns(own, CLONE_NEWNET) !== 0) {
          throw new Error(`cannot return to the collector's network namespace (setns errno ${libc.errno()})`);
        }
      };
      let socket: number;
      try {
        socket = open();
      } catch (error) {
        returnHome();
        throw error;
      }
      returnHome();
      return socket;
    } finally {
      fs.closeSync(own);
    }
  } finally {
    fs.closeSync(target);
  }
}
