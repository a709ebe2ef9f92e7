import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { NonBlockingPipe } from '../../../src/kernel/tracefs/trace-pipe';

/** A FIFO with our reader open on it (non-blocking) and a writer, as trace_pipe behaves: reads consume. */
function fifo(): { pipe: NonBlockingPipe; write: (text: string) => void; close: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-pipe-'));
  const file = path.join(dir, 'trace_pipe');
  execFileSync('mkfifo', [file]);
  const pipe = new NonBlockingPipe(file);
  const writer = fs.openSync(file, 'w');
  return {
    pipe,
    write: (text) => {
      let written = 0;
      const bytes = Buffer.from(text, 'latin1');
      while (written < bytes.length) written += fs.writeSync(writer, bytes, written);
    },
    close: () => {
      pipe.close();
      fs.closeSync(writer);
      fs.rmSync(dir, { recursive: true });
    },
  };
}

describe('NonBlockingPipe', () => {
  it('gives whole lines, keeps a partial line for the next read, and returns nothing when empty', () => {
    const { pipe, write, close } = fifo();
    try {
      expect(pipe.readLines(1 << 20)).toEqual([]);
      write('first line\nsecond ');
      expect(pipe.readLines(1 << 20)).toEqual(['first line']);
      write('half');
      expect(pipe.readLines(1 << 20)).toEqual([]);
      write(' done\nthird\n');
      expect(pipe.readLines(1 << 20)).toEqual(['second half done', 'third']);
      expect(pipe.readLines(1 << 20)).toEqual([]);
    } finally {
      close();
    }
  });

  it('hands out lines that do not keep the chunk they were read in alive', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const { pipe, write, close } = fifo();
    try {
      const kept: string[] = [];
      const padding = ' x'.repeat(100);
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let chunk = 0; chunk < 16; chunk++) {
        // ~60 KiB per chunk (within one FIFO buffer), its first line kept as the drop decoder keeps a location.
        write(Array.from({ length: 300 }, (_, i) => `chunk ${chunk} line ${i}${padding}\n`).join(''));
        const lines = pipe.readLines(1 << 20);
        expect(lines).toHaveLength(300);
        kept.push(lines[0]!.slice(0, 20));
      }
      gc();
      const retained = process.memoryUsage().heapUsed - before;
      // 16 short strings; a slice of each chunk's text would keep 16 x 60 KiB alive.
      expect(kept).toHaveLength(16);
      expect(retained).toBeLessThan(300 * 1024);
    } finally {
      close();
    }
  });
});
