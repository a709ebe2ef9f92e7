/**
 * The README is an install page: a table of contents that links every section, then the quick start, Install on AKS,
 * the local stack, the reference and development, in that order. Its "Install on AKS" section says what the
 * repository does: the image references it lists are the ones
 * the overlays render, its commands name files, overlays and template parameters that exist, and it says what is not
 * run here.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { AZURE_RULE_GROUPS_FILE } from '../../src/azure-rule-groups';
import { DEPLOY_ROOT } from '../helpers/paths';

const REPO_ROOT = path.join(DEPLOY_ROOT, '..');
const README = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
const OVERLAYS_DIR = path.join(DEPLOY_ROOT, 'kubernetes', 'overlays');

/** The text of a `## ` section, without its heading. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const body = README.slice(start + title.length + 5);
  const end = body.search(/\n## /);
  return end < 0 ? body : body.slice(0, end);
}

/** Shell commands of the section's sh code blocks, continuation lines joined. */
function commands(text: string): string[] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) =>
    block[1]!
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

const install = section('Install on AKS');
const installCommands = commands(install);

function imageReferences(): Record<string, string> {
  const result = spawnSync(process.execPath, [path.join(DEPLOY_ROOT, 'scripts', 'release-images.mjs')], {
    encoding: 'utf8',
    env: { ...process.env, GITHUB_OUTPUT: '', RELEASE_TAG: '' },
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return Object.fromEntries(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
}

describe('README: Install on AKS', () => {
  it('comes right after the quick start', () => {
    expect(README.indexOf('\n## Quick start\n')).toBeGreaterThan(0);
    expect(README.indexOf('\n## Install on AKS\n')).toBeGreaterThan(README.indexOf('\n## Quick start\n'));
    const headings = [...README.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings[headings.indexOf('Quick start') + 1]).toBe('Install on AKS');
  });

  it('lists the image references every overlay renders (the base kustomization images:)', () => {
    const { linux, windows } = imageReferences();
    expect(install).toContain(`\`${linux}\``);
    expect(install).toContain(`\`${windows}\``);
  });

  it('builds each image in ACR from its Dockerfile with the name and tag the manifests use', () => {
    const references = imageReferences();
    const builds = installCommands.filter((c) => c.startsWith('az acr build '));
    expect(builds).toHaveLength(2);
    for (const [reference, dockerfile] of [
      [references.linux!, 'collector/Dockerfile'],
      [references.windows!, 'collector/Dockerfile.windows'],
    ] as const) {
      const nameAndTag = reference.slice(reference.lastIndexOf('/') + 1);
      const build = builds.find((c) => c.includes(`--image ${nameAndTag} `));
      expect(build).toBeDefined();
      expect(build).toContain(`--file ${dockerfile} .`);
      expect(fs.existsSync(path.join(REPO_ROOT, dockerfile))).toBe(true);
    }
  });

  it('attaches the registry to the cluster and points the manifests at it with the script, from the repository root', () => {
    expect(installCommands).toContainEqual(expect.stringMatching(/^az aks update .*--attach-acr \$ACR$/));
    expect(installCommands).toContain('node deploy/scripts/set-image-registry.mjs $ACR.azurecr.io');
    expect(install).toMatch(/run every command below in the repository root/);
  });

  it('applies overlays that exist, and offers every overlay', () => {
    const applied = installCommands
      .map((c) => /^kubectl apply -k deploy\/kubernetes\/overlays\/(\S+)$/.exec(c)?.[1])
      .filter(Boolean);
    expect(applied.length).toBeGreaterThan(0);
    for (const overlay of applied)
      expect(fs.existsSync(path.join(OVERLAYS_DIR, overlay!, 'kustomization.yaml'))).toBe(true);
    for (const overlay of fs.readdirSync(OVERLAYS_DIR)) expect(install).toContain(`overlay \`${overlay}\``);
  });

  it('deploys the Azure rule groups template with every parameter it requires, and only parameters it has', () => {
    const deployment = installCommands.find((c) => c.startsWith('az deployment group create '));
    expect(deployment).toContain(`--template-file deploy/${AZURE_RULE_GROUPS_FILE}`);
    const template = JSON.parse(fs.readFileSync(path.join(DEPLOY_ROOT, AZURE_RULE_GROUPS_FILE), 'utf8')) as {
      parameters: Record<string, { defaultValue?: unknown }>;
    };
    const given = [...deployment!.split('--parameters ')[1]!.matchAll(/(?:^|\s)(\w+)=/g)].map((m) => m[1]!);
    for (const name of given) expect(Object.keys(template.parameters)).toContain(name);
    const required = Object.entries(template.parameters)
      .filter(([, p]) => p.defaultValue === undefined)
      .map(([name]) => name);
    expect(given.sort()).toEqual(expect.arrayContaining(required));
  });

  it('says what is not run here: pushing images and an AKS cluster', () => {
    const notRun = /\*\*Not run here\.\*\*([\s\S]*)$/.exec(install)?.[1] ?? '';
    expect(notRun).toMatch(/pushes an image/);
    expect(notRun).toMatch(/AKS\s+cluster/);
  });
});

/** Headings outside code blocks: level and text. */
function headings(): { level: number; text: string }[] {
  const found: { level: number; text: string }[] = [];
  let fenced = false;
  for (const line of README.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const match = /^(#{2,4}) (.+)$/.exec(line);
    if (!fenced && match) found.push({ level: match[1]!.length, text: match[2]!.trim() });
  }
  return found;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}

describe('README: an install page', () => {
  it('orders its top-level sections: quick start, Install on AKS, local stack, reference, development', () => {
    const top = headings()
      .filter((h) => h.level === 2)
      .map((h) => h.text);
    const order = ['Quick start', 'Install on AKS', 'Local stack with docker compose', 'Reference', 'Development'];
    const positions = order.map((title) => top.indexOf(title));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('has a table of contents linking every section, each link to a heading', () => {
    const contents = section('Contents');
    const links = [...contents.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    const anchors = headings()
      .filter((h) => h.level <= 4 && h.text !== 'Contents')
      .map((h) => anchor(h.text));
    expect(links).toEqual(anchors);
  });
});

describe('README: measured footprint', () => {
  it("states the Linux DaemonSet's requests and limits as its manifest sets them", () => {
    const stated = /Hence\s+requests\s+`([^`]+)`\/`([^`]+)`\s+and\s+limits\s+`([^`]+)`\/`([^`]+)`\./.exec(README);
    expect(stated).not.toBeNull();
    const manifest = fs.readFileSync(path.join(DEPLOY_ROOT, 'kubernetes', 'base', 'daemonset-linux.yaml'), 'utf8');
    type Resources = { requests: Record<string, string>; limits: Record<string, string> };
    const daemonSet = parseAllDocuments(manifest)
      .map((document) => document.toJS() as { kind?: string; spec?: Record<string, unknown> })
      .find((document) => document.kind === 'DaemonSet');
    const spec = daemonSet?.spec as { template: { spec: { containers: { resources: Resources }[] } } };
    const { requests, limits } = spec.template.spec.containers[0]!.resources;
    expect(stated!.slice(1)).toEqual([requests['cpu'], requests['memory'], limits['cpu'], limits['memory']]);
  });
});
