import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pruneReplacedKernels } from '../src/kernel-cache';
import { namedKernels } from '../src/matrix';

describe('kernel cache', () => {
  let cache: string;
  beforeEach(() => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-cache-'));
  });
  afterEach(() => fs.rmSync(cache, { recursive: true, force: true }));

  it('keeps one kernel per series: a newer package of the series replaces the cached one and its modules', () => {
    const packages = [
      'linux-image-6.1.0-50-cloud-amd64-unsigned',
      'linux-image-6.1.0-57-cloud-amd64-unsigned',
      'linux-image-6.12.117+deb12-cloud-amd64-unsigned',
      'linux-image-5.10.0-30-cloud-amd64-unsigned',
    ];
    for (const name of packages) {
      fs.mkdirSync(path.join(cache, 'unpacked', name, 'boot'), { recursive: true });
      fs.mkdirSync(path.join(cache, 'initramfs'), { recursive: true });
      fs.writeFileSync(path.join(cache, 'initramfs', `modules-1-${name}.cpio`), '');
    }
    const removed: string[] = [];
    pruneReplacedKernels(cache, namedKernels([packages[1]!, packages[2]!]), (line) => removed.push(line));
    expect(fs.readdirSync(path.join(cache, 'unpacked')).sort()).toEqual([packages[3], packages[1], packages[2]]);
    expect(fs.readdirSync(path.join(cache, 'initramfs'))).not.toContain(`modules-1-${packages[0]}.cpio`);
    expect(removed).toEqual([`removing ${packages[0]} from the cache: ${packages[1]} replaces it`]);
  });

  it('does nothing on an empty cache', () => {
    expect(() => pruneReplacedKernels(cache, [], () => undefined)).not.toThrow();
  });
});
