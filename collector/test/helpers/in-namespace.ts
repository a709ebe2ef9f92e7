/**
 * Runs synchronous code with this thread inside a test's network namespace (setns(2) through libc, as the collector
 * reaches netlink), then moves it back: a socket opened meanwhile belongs to that namespace for good. Only for code
 * that finishes before returning (nothing else of the test process runs while the thread is away).
 */
import * as fs from 'node:fs';
import type { Namespace } from './netns';

const CLONE_NEWNET = 0x40000000;

interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  errno(): number;
}

export function inNamespace<T>(namespace: Namespace, run: () => T): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as Koffi;
  const setns = koffi.load('libc.so.6').func('int setns(int, int)');
  const home = fs.openSync('/proc/thread-self/ns/net', 'r');
  const target = fs.openSync(`/run/netns/${namespace.name}`, 'r');
  try {
    if (setns(target, CLONE_NEWNET) !== 0) throw new Error(`setns ${namespace.name}: errno ${koffi.errno()}`);
    let result: T;
    try {
      result = run();
    } finally {
      // Back home even when run threw; failing that, this test process must not go on in the test's namespace.
      if (setns(home, CLONE_NEWNET) !== 0) process.abort();
    }
    return result;
  } finally {
    fs.closeSync(target);
    fs.closeSync(home);
  }
}
