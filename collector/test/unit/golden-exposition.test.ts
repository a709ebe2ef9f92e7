/**
 * The golden exposition: a proc root and sysfs recorded from a real node-shaped namespace (test/fixtures/linux/golden,
 * made by its record.sh) gathered by every procfs/sysfs source and serialised must give the committed /metrics text
 * (test/golden/linux-procfs.metrics) byte for byte. A refactor that changes any name, label, value or order shows up
 * here; an intended change regenerates the file with `UPDATE_GOLDEN=1 npx jest golden-exposition` and the diff is
 * reviewed in the commit.
 *
 * Left out, with the reason: source_collection_duration_seconds (wall time of this run); the tracefs events strategy
 * of the drops source and the nftables source (they install kernel state: their recorded formats are tested in their
 * own unit tests, drops-source.test.ts runs the drops source on recorded tracefs files).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConfig } from '../../src/config';
import { Exposition } from '../../src/exposition';
import { Gatherer } from '../../src/gatherer';
import { createHostFs } from '../../src/kernel/host-fs';
import { silentLogger } from '../../src/log';
import { selectSources } from '../../src/sources';
import { FIXTURES } from '../helpers/fixtures';

const ROOT = path.join(FIXTURES, 'linux', 'golden');
const GOLDEN = path.join(__dirname, '..', 'golden', 'linux-procfs.metrics');
const SOURCES = ['sockstat', 'netdev', 'forward', 'snmp', 'tcp_sockets', 'drops'];
const BUILD_INFO = { version: '0.0.0-golden', os: 'linux', arch: 'x64', kernel: 'recorded' };

/** One scrape of the recorded root; `statistics` picks the default or full protocol statistic sets. */
async function scrapeRecordedRoot(statistics: 'default' | 'all'): Promise<string> {
  const config = resolveConfig(
    {
      procPath: path.join(ROOT, 'proc'),
      sysPath: path.join(ROOT, 'sys'),
      nodeName: 'golden-node',
      cluster: 'golden-cluster',
      tcpSocketReader: 'procfs',
      // The recorded root has procfs only: the drops source counts with the kernel counters (status drop_counters).
      dropReader: 'counters',
      statistics,
      sources: SOURCES.join(','),
    },
    {},
  );
  const sources = selectSources(config, 'linux');
  const gatherer = new Gatherer(sources, {
    config,
    fs: createHostFs(config),
    log: silentLogger(),
  });
  try {
    const { text, gathering } = await new Exposition(gatherer, config, BUILD_INFO).scrape();
    const down = gathering.sources.filter((status) => !status.up);
    expect(down).toEqual([]);
    return text
      .split('\n')
      .filter((line) => !line.includes('source_collection_duration_seconds'))
      .join('\n');
  } finally {
    await gatherer.stop();
  }
}

describe('golden exposition of a recorded node', () => {
  for (const statistics of ['default', 'all'] as const) {
    it(`gives the committed /metrics text (statistics ${statistics})`, async () => {
      const file = GOLDEN.replace(/\.metrics$/, `.${statistics}.metrics`);
      const text = await scrapeRecordedRoot(statistics);
      if (process.env['UPDATE_GOLDEN'] === '1') fs.writeFileSync(file, text);
      expect(text).toBe(fs.readFileSync(file, 'utf8'));
    });
  }
});
