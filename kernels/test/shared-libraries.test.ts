import { fixture } from './fixtures';
import { parseLdd } from '../src/shared-libraries';

describe('ldd output', () => {
  it('lists the libraries and the loader, not the vDSO (recorded: ldd /usr/sbin/nft on Debian 12)', () => {
    const libraries = parseLdd(fixture('ldd-nft.txt'), 'nft');
    expect(libraries).toContain('/lib/x86_64-linux-gnu/libnftables.so.1');
    expect(libraries).toContain('/lib64/ld-linux-x86-64.so.2');
    expect(libraries.some((l) => l.includes('vdso'))).toBe(false);
    expect(libraries.every((l) => l.startsWith('/'))).toBe(true);
  });

  it('has nothing for a static binary (recorded: ldd /bin/busybox from busybox-static)', () => {
    expect(parseLdd(fixture('ldd-busybox.txt'), 'busybox')).toEqual([]);
  });

  it('says which library is missing', () => {
    expect(() => parseLdd('\tlibc.musl-x86_64.so.1 => not found\n', 'koffi.node')).toThrow(
      /koffi.node needs libc.musl-x86_64.so.1, which is not installed/,
    );
  });
});
