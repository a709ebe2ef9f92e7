import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readOneGeneration, readWhole } from '../../../src/kernel/read-whole';

describe('reading whole kernel files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kt-read-whole-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function fileOf(bytes: number): { fd: number; text: string } {
    const text = Array.from({ length: bytes }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const file = path.join(dir, `f${bytes}`);
    fs.writeFileSync(file, text);
    return { fd: fs.openSync(file, 'r'), text };
  }

  it.each([0, 1, 7, 8, 9, 100])(
    'reads a %i-byte file through an 8-byte buffer, both ways, again and again',
    (bytes) => {
      const { fd, text } = fileOf(bytes);
      try {
        for (let again = 0; again < 2; again++) {
          const whole = readWhole(fd, Buffer.alloc(8), true);
          expect(whole.buffer.toString('latin1', 0, whole.length)).toBe(text);
          const generation = readOneGeneration(fd, Buffer.alloc(8));
          expect(generation.buffer.toString('latin1', 0, generation.length)).toBe(text);
        }
      } finally {
        fs.closeSync(fd);
      }
    },
  );
});
