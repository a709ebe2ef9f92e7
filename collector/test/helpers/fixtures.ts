/** Recorded real files under test/fixtures. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const FIXTURES = path.join(__dirname, '..', 'fixtures');

export function fixture(relativePath: string): string {
  return fs.readFileSync(path.join(FIXTURES, relativePath), 'latin1');
}
