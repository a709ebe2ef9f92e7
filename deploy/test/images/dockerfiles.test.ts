/**
 * Lints the collector's image definitions. No Docker engine runs here, and hadolint is not packaged by Debian, so this
 * checks what matters for these images with a small Dockerfile reader: pinned base images (no `latest`, no untagged
 * image), multi-stage builds, exec-form ENTRYPOINT, `npm ci` from the lock, every COPY source present in the build
 * context, the Node.js version the collector's engines field accepts, and the tools the Linux sources run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shebangNodeFlags } from '../../../collector/src/node-flags';

const REPO_ROOT = path.join(__dirname, '..', '..', '..');
const DOCKERFILES = ['collector/Dockerfile', 'collector/Dockerfile.windows'];

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** Instructions with continuation lines joined, comments and parser directives dropped, ARG defaults expanded. */
export function readDockerfile(text: string): Instruction[] {
  const escape = /^#\s*escape\s*=\s*(\S)/m.exec(text.split('\n').slice(0, 3).join('\n'))?.[1] ?? '\\';
  const instructions: Instruction[] = [];
  let current = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (current === '' && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (current === '') startLine = index + 1;
    if (line.endsWith(escape)) {
      current += `${line.slice(0, -1)} `;
      return;
    }
    current += line;
    const match = /^\s*(\w+)\s+(.*)$/s.exec(current);
    if (!match) throw new Error(`line ${startLine}: cannot read "${current}"`);
    instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: startLine });
    current = '';
  });
  return instructions;
}

function expandArgs(instructions: Instruction[], value: string): string {
  const defaults = new Map<string, string>();
  for (const instruction of instructions) {
    const match = /^(\w+)=(\S+)$/.exec(instruction.args);
    if (instruction.keyword === 'ARG' && match) defaults.set(match[1]!, match[2]!);
  }
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string, b: string) => defaults.get(a ?? b) ?? whole);
}

interface Stage {
  readonly image: string;
  readonly name?: string;
  /** The FROM --platform flag (e.g. $BUILDPLATFORM), undefined when the stage runs on the target platform. */
  readonly platform?: string;
}

function stages(instructions: Instruction[]): Stage[] {
  return instructions
    .filter((i) => i.keyword === 'FROM')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const platform = words.find((w) => w.startsWith('--platform='))?.slice('--platform='.length);
      const [image, as, name] = words.filter((w) => !w.startsWith('--'));
      return {
        image: expandArgs(instructions, image!),
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        platform,
      };
    });
}

describe.each(DOCKERFILES)('%s', (file) => {
  const instructions = readDockerfile(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'));
  const from = stages(instructions);
  const stageNames = new Set(from.map((s) => s.name).filter(Boolean));

  it('is a multi-stage build whose build stages are named', () => {
    expect(from.length).toBeGreaterThanOrEqual(2);
    for (const stage of from.slice(0, -1)) expect(stage.name).toMatch(/^[a-z][a-z0-9-]*$/);
  });

  it('pins every base image to a version (no latest, no untagged image)', () => {
    for (const { image } of from) {
      if (stageNames.has(image)) continue;
      const tag = /:([^/@]+)$/.exec(image)?.[1];
      expect({ image, tag }).toEqual({ image, tag: expect.stringMatching(/\d/) });
      expect(tag).not.toMatch(/latest/);
    }
  });

  it('has an exec-form (JSON) ENTRYPOINT in the final stage, and no ADD', () => {
    const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
    const final = instructions.slice(lastFrom);
    const entrypoint = final.filter((i) => i.keyword === 'ENTRYPOINT');
    expect(entrypoint).toHaveLength(1);
    expect(Array.isArray(JSON.parse(entrypoint[0]!.args))).toBe(true);
    expect(instructions.filter((i) => i.keyword === 'ADD')).toEqual([]);
  });

  it('installs npm dependencies with npm ci (from the lock), never npm install', () => {
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /npm ci\b/.test(r))).toBe(true);
    expect(runs.filter((r) => /npm (install|i)\b/.test(r))).toEqual([]);
  });

  it('copies only files that exist in the build context (the repository root)', () => {
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))) {
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) {
        expect({ line: copy.line, source, exists: fs.existsSync(path.join(REPO_ROOT, source)) }).toEqual({
          line: copy.line,
          source,
          exists: true,
        });
      }
    }
  });

  it('copies from stages that exist', () => {
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' && i.args.startsWith('--from'))) {
      const stage = /^--from=(\S+)/.exec(copy.args)![1]!;
      expect(stageNames.has(stage) ? stage : `${stage} (no such stage)`).toBe(stage);
    }
  });

  it('copies every workspace package.json before npm ci (npm ci checks the whole lock)', () => {
    const workspaces = (
      JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }
    ).workspaces;
    const copied = instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    for (const workspace of workspaces) {
      expect(copied.some((c) => c.startsWith(`${workspace}/package.json `)) ? workspace : `${workspace} missing`).toBe(
        workspace,
      );
    }
  });
});

describe('collector/Dockerfile (Linux)', () => {
  const instructions = readDockerfile(fs.readFileSync(path.join(REPO_ROOT, 'collector/Dockerfile'), 'utf8'));

  it('runs Node.js of a version the collector engines field accepts', () => {
    const engines = (
      JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'collector/package.json'), 'utf8')) as {
        engines: { node: string };
      }
    ).engines.node;
    const [minMajor, minMinor] = /^>=(\d+)\.(\d+)/.exec(engines)!.slice(1).map(Number) as [number, number];
    for (const { image } of stages(instructions)) {
      const version = /^node:(\d+)\.(\d+)\.\d+/.exec(image);
      expect(version).not.toBeNull();
      const [major, minor] = [Number(version![1]), Number(version![2])];
      expect(major > minMajor || (major === minMajor && minor >= minMinor)).toBe(true);
    }
  });

  it('installs nftables (the tcp_flags source runs nft) without recommends, and cleans the apt lists', () => {
    const apt = instructions.find((i) => i.keyword === 'RUN' && i.args.includes('apt-get install'))!;
    expect(apt.args).toMatch(/--no-install-recommends/);
    expect(apt.args).toMatch(/\bnftables=\S+/);
    expect(apt.args).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
  });

  it('builds for any target platform: only $BUILDPLATFORM is named, never a fixed platform', () => {
    for (const { platform } of stages(instructions)) {
      expect([undefined, '$BUILDPLATFORM']).toContain(platform);
    }
    // The final stage is the target platform's image.
    expect(stages(instructions).at(-1)!.platform).toBeUndefined();
  });

  it("installs the runtime node_modules on the target platform (npm picks koffi's native binary by platform)", () => {
    const copies = instructions.filter((i) => i.keyword === 'COPY' && /^--from=\S+\s+\S*node_modules/.test(i.args));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const stageName = /^--from=(\S+)/.exec(copy.args)![1];
      const stage = stages(instructions).find((s) => s.name === stageName)!;
      expect({ stage: stageName, platform: stage.platform }).toEqual({ stage: stageName, platform: undefined });
    }
  });

  it('starts the kappie command, serve by default', () => {
    expect(JSON.parse(instructions.find((i) => i.keyword === 'ENTRYPOINT')!.args)).toEqual(['kappie']);
    expect(JSON.parse(instructions.find((i) => i.keyword === 'CMD')!.args)).toEqual(['serve']);
  });
});

describe('collector/windows/kappie.cmd', () => {
  it('starts the collector with the Node.js flags of the bin shebang', () => {
    const cmd = fs.readFileSync(path.join(REPO_ROOT, 'collector/windows/kappie.cmd'), 'utf8');
    const flags = /node\.exe"((?:\s+--\S+)*)\s+"/.exec(cmd)?.[1]?.trim().split(/\s+/).filter(Boolean);
    const shebang = fs.readFileSync(path.join(REPO_ROOT, 'collector/src/cli.ts'), 'utf8').split('\n', 1)[0]!;
    expect(flags).toEqual(shebangNodeFlags(shebang));
  });
});

describe('the Dockerfile reader', () => {
  it('joins continuation lines with the escape directive and skips comments', () => {
    const parsed = readDockerfile('# escape=`\nFROM a:1 AS b\n# note\nRUN x `\n  y\nENTRYPOINT ["z"]\n');
    expect(parsed.map((i) => [i.keyword, i.args])).toEqual([
      ['FROM', 'a:1 AS b'],
      ['RUN', 'x    y'],
      ['ENTRYPOINT', '["z"]'],
    ]);
  });
});
