/** What this collector is and where it runs: the labels of kappie_build_info. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface BuildInfo {
  readonly version: string;
  readonly os: string;
  readonly arch: string;
  readonly kernel: string;
}

/** The collector package's version; read at run time so src (tests) and dist (built) agree. */
export function collectorVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

export function currentBuildInfo(): BuildInfo {
  return {
    version: collectorVersion(),
    os: process.platform === 'win32' ? 'windows' : process.platform,
    arch: process.arch,
    kernel: os.release(),
  };
}
