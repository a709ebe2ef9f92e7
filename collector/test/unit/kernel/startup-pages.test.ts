/**
 * Releasing the pages only starting up touched: which mappings qualify (parsed from a recorded /proc/PID/smaps of
 * Node.js 20 serving HTTP), and in a real process that the resident file pages drop and that the process goes on
 * working (copy-on-write pages released by mistake, e.g. a library's relocated RELRO, crash it at the next call).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ParseError } from '../../../src/errors';
import { parseSmaps, releasableMappings } from '../../../src/kernel/startup-pages';
import { fixture } from '../../helpers/fixtures';
import { COLLECTOR_CLI, REPO_ROOT } from '../../helpers/netns';

const RECORDED = fixture('linux/smaps/node20-http-server.smaps');
const MODULE = path.join(REPO_ROOT, 'collector', 'dist', 'kernel', 'startup-pages.js');

describe('parseSmaps', () => {
  it('reads every mapping of a recorded smaps with its address range, permissions, path and sizes', () => {
    const mappings = parseSmaps(RECORDED);
    expect(mappings).toHaveLength(RECORDED.split('\n').filter((line) => /^[0-9a-f]+-[0-9a-f]+ /.test(line)).length);
    expect(mappings[0]).toEqual({
      start: 0x400000n,
      end: 0xb6f000n,
      permissions: 'r--p',
      path: '/usr/bin/node',
      residentBytes: 5948 * 1024,
      anonymousBytes: 0,
      swapBytes: 0,
      lockedBytes: 0,
    });
    expect(mappings.some((m) => m.path === '' && m.permissions === 'rw-p')).toBe(true);
    expect(mappings.some((m) => m.path === '[stack]')).toBe(true);
  });

  it('rejects a field before any mapping and a mapping without the fields it needs', () => {
    expect(() => parseSmaps('Rss: 4 kB\n')).toThrow(ParseError);
    expect(() => parseSmaps('00400000-00b6f000 r--p 00000000 fe:00 260689 /usr/bin/node\nRss: 4 kB\n')).toThrow(
      /no Anonymous field/,
    );
  });
});

describe('releasableMappings', () => {
  const mappings = parseSmaps(RECORDED);
  const releasable = releasableMappings(mappings);

  it("takes the node binary's read-only segments and the libraries' text", () => {
    const node = releasable.filter((m) => m.path === '/usr/bin/node').map((m) => m.permissions);
    expect(node).toEqual(expect.arrayContaining(['r--p', 'r-xp']));
    expect(releasable.some((m) => m.path.includes('libc.so') && m.permissions === 'r-xp')).toBe(true);
    // Most of what the process has resident from files qualifies.
    const fileResident = mappings.filter((m) => m.path.startsWith('/')).reduce((sum, m) => sum + m.residentBytes, 0);
    const released = releasable.reduce((sum, m) => sum + m.residentBytes, 0);
    expect(released).toBeGreaterThan(fileResident * 0.8);
  });

  it('never takes a mapping with copy-on-write pages, a writable, shared, anonymous or locked one', () => {
    const relro = mappings.filter((m) => m.permissions === 'r--p' && m.path.startsWith('/') && m.anonymousBytes > 0);
    expect(relro.length).toBeGreaterThan(0); // the recording has them: libc's, libstdc++'s, node's own
    for (const m of releasable) {
      expect(m.permissions).toMatch(/^r-.p$/);
      expect(m.path.startsWith('/')).toBe(true);
      expect(m.anonymousBytes + m.swapBytes + m.lockedBytes).toBe(0);
    }
    const changed = (change: object) => releasableMappings([{ ...mappings[0]!, ...change }]);
    expect(changed({})).toHaveLength(1);
    expect(changed({ swapBytes: 4096 })).toHaveLength(0);
    expect(changed({ lockedBytes: 4096 })).toHaveLength(0);
    expect(changed({ permissions: 'r--s' })).toHaveLength(0);
    expect(changed({ permissions: 'rw-p' })).toHaveLength(0);
    expect(changed({ path: '' })).toHaveLength(0);
    expect(changed({ path: '[vdso]' })).toHaveLength(0);
    expect(changed({ residentBytes: 0 })).toHaveLength(0);
  });
});

/** A Node.js process that releases its startup pages, then needs code and data it has not used yet. */
const RELEASE_THEN_WORK = `
const fs = require('node:fs');
const rssFile = () => Number(/RssFile:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const before = rssFile();
const released = require(${JSON.stringify(MODULE)}).releaseStartupPages();
const after = rssFile();
const zlib = require('node:zlib');
const text = 'kappie '.repeat(10000);
const roundTrip = zlib.gunzipSync(zlib.gzipSync(text)).toString() === text;
const http = require('node:http');
const server = http.createServer((q, s) => s.end(JSON.stringify({ url: q.url, sum: [1, 2, 3].reduce((a, b) => a + b) })));
server.listen(0, '127.0.0.1', async () => {
  const answer = await (await fetch('http://127.0.0.1:' + server.address().port + '/x')).json();
  server.close();
  console.log(JSON.stringify({ before, after, released, roundTrip, answer }));
});
`;

describe('releaseStartupPages', () => {
  it('drops most resident file pages of a real Node.js process, which goes on working', () => {
    const result = spawnSync(process.execPath, ['-e', RELEASE_THEN_WORK], { encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const out = JSON.parse(result.stdout) as {
      before: number;
      after: number;
      released: { mappings: number; bytes: number };
      roundTrip: boolean;
      answer: unknown;
    };
    expect(out.released.mappings).toBeGreaterThan(3);
    expect(out.released.bytes).toBeGreaterThan(out.before / 2);
    expect(out.after).toBeLessThan(out.before / 2);
    expect(out.roundTrip).toBe(true);
    expect(out.answer).toEqual({ url: '/x', sum: 6 });
  });

  it('is done by `kappie serve` once started, which then answers scrapes', async () => {
    const child = spawn(
      process.execPath,
      [COLLECTOR_CLI, 'serve', '--listen', '127.0.0.1:0', '--sources', 'sockstat', '--log-level', 'debug'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      let logs = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          logs += chunk.toString();
          const port = /serving \/metrics on port (\d+)/.exec(logs);
          if (port && logs.includes('released the resident pages')) resolve(Number(port[1]));
        });
        child.once('exit', () => reject(new Error(`exited early: ${logs}`)));
      });
      const line = logs.split('\n').find((l) => l.includes('released the resident pages'))!;
      expect((JSON.parse(line) as { mebibytes: number }).mebibytes).toBeGreaterThan(5);
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('kappie_source_up{source="sockstat"');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
