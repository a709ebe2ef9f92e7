/** scripts/sum-results.mjs: the final line of .ci/run, summed over the main suite and the kernel matrix. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'sum-results.mjs');

function sum(logs: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-sum-'));
  try {
    const files = logs.map((text, i) => {
      const file = path.join(dir, `${i}.log`);
      fs.writeFileSync(file, text);
      return file;
    });
    const result = spawnSync(process.execPath, [SCRIPT, ...files], { encoding: 'utf8' });
    return { status: result.status, last: result.stdout.trim().split('\n').pop() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('.ci/run result line', () => {
  it('sums the last count of each log', () => {
    expect(sum(['1 passed, 0 failed\n...\n1250 passed, 0 failed\n', 'kernel tests\n\n37 passed, 0 failed\n'])).toEqual({
      status: 0,
      last: '1287 passed, 0 failed',
    });
  });

  it('fails on failures and on a log without a count (a run that died)', () => {
    expect(sum(['3 passed, 1 failed\n', '0 passed, 0 failed\n'])).toEqual({ status: 1, last: '3 passed, 1 failed' });
    expect(sum(['3 passed, 0 failed\n', 'Killed\n'])).toEqual({ status: 1, last: '3 passed, 1 failed' });
  });
});
