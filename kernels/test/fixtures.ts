/** Recorded host outputs under test/fixtures. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function fixture(name: string): string {
  return fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
}
