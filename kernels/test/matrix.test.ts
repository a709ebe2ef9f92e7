import { chooseKernels, namedKernels } from '../src/matrix';

/** `apt-cache search --names-only '^linux-image-.*-cloud-amd64-unsigned$'` on Debian 12 with bookworm-security. */
const APT_CACHE = [
  'linux-image-6.1.0-47-cloud-amd64-unsigned - Linux 6.1 for x86-64 cloud',
  'linux-image-6.1.0-57-cloud-amd64-unsigned - Linux 6.1 for x86-64 cloud',
  'linux-image-6.1.0-9-cloud-amd64-unsigned - Linux 6.1 for x86-64 cloud',
  'linux-image-6.12.107+deb12-cloud-amd64-unsigned - Linux 6.12 for x86-64 cloud',
  'linux-image-6.12.117+deb12-cloud-amd64-unsigned - Linux 6.12 for x86-64 cloud',
  'linux-image-6.12.111+deb12-cloud-amd64-unsigned - Linux 6.12 for x86-64 cloud',
  'linux-image-cloud-amd64-dbg - Debugging symbols for Linux cloud-amd64 configuration (meta-package)',
  '',
].join('\n');

describe('kernel matrix', () => {
  it('takes the newest package of each series, oldest series first (numeric, not string, order)', () => {
    expect(chooseKernels(APT_CACHE)).toEqual([
      { packageName: 'linux-image-6.1.0-57-cloud-amd64-unsigned', release: '6.1.0-57-cloud-amd64', series: '6.1' },
      {
        packageName: 'linux-image-6.12.117+deb12-cloud-amd64-unsigned',
        release: '6.12.117+deb12-cloud-amd64',
        series: '6.12',
      },
    ]);
  });

  it('is empty when apt lists no cloud kernel', () => {
    expect(chooseKernels('')).toEqual([]);
    expect(chooseKernels('linux-image-amd64 - Linux for 64-bit PCs (meta-package)\n')).toEqual([]);
  });

  it('takes named packages and refuses anything else', () => {
    expect(namedKernels(['linux-image-6.1.0-57-cloud-amd64-unsigned'])[0]!.release).toBe('6.1.0-57-cloud-amd64');
    expect(() => namedKernels(['linux-image-6.1.0-57-amd64'])).toThrow(/not a linux-image-<version>-cloud-amd64/);
  });
});
