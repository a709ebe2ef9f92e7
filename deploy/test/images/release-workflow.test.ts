/**
 * Where the images come from and where the manifests look for them: the release workflow is valid (action-validator,
 * the workflow schema checker from the npm registry) and builds both Dockerfiles for the right platforms; it pushes
 * exactly the references the overlays render, which are defined once (the base kustomization's `images:`); and the
 * documented command that moves them to another registry does, as `kubectl kustomize` renders it.
 *
 * Not exercised here: running the workflow (no GitHub runner, no Docker engine) and pushing to a registry.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { renderKustomization, type KubernetesObject } from '../helpers/kustomize';
import { DEPLOY_ROOT } from '../helpers/paths';

const REPO_ROOT = path.join(DEPLOY_ROOT, '..');
const WORKFLOWS_DIR = path.join(REPO_ROOT, '.github', 'workflows');
const RELEASE_WORKFLOW = path.join(WORKFLOWS_DIR, 'release-images.yml');
const ACTION_VALIDATOR = path.join(REPO_ROOT, 'node_modules', '.bin', 'action-validator');
const RELEASE_SCRIPT = path.join(DEPLOY_ROOT, 'scripts', 'release-images.mjs');
const SET_REGISTRY_SCRIPT = path.join(DEPLOY_ROOT, 'scripts', 'set-image-registry.mjs');
const OVERLAYS_DIR = path.join(DEPLOY_ROOT, 'kubernetes', 'overlays');
const OVERLAYS = fs
  .readdirSync(OVERLAYS_DIR)
  .filter((name) => fs.existsSync(path.join(OVERLAYS_DIR, name, 'kustomization.yaml')));
const COLLECTOR_VERSION = (
  JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'collector', 'package.json'), 'utf8')) as { version: string }
).version;

/* eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML */
type Any = any;

function validateWorkflow(file: string) {
  return spawnSync(ACTION_VALIDATOR, [file], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000 });
}

/** The image of each collector DaemonSet an overlay renders. */
function renderedImages(objects: KubernetesObject[]): { linux: string; windows: string } {
  const imageOf = (name: string) =>
    (objects.find((o) => o.kind === 'DaemonSet' && o.metadata.name === name) as Any).spec.template.spec.containers[0]
      .image as string;
  return { linux: imageOf('kappie-collector'), windows: imageOf('kappie-collector-windows') };
}

function runScript(script: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    timeout: 30_000,
    env: { ...process.env, GITHUB_OUTPUT: '', RELEASE_TAG: '', ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function releaseOutputs(env: Record<string, string> = {}): Record<string, string> {
  const result = runScript(RELEASE_SCRIPT, [], env);
  if (result.status !== 0) throw new Error(`release-images.mjs failed: ${result.stderr}`);
  return Object.fromEntries(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
}

describe('GitHub workflows', () => {
  const workflows = fs.readdirSync(WORKFLOWS_DIR).filter((file) => /\.ya?ml$/.test(file));

  it('include the release workflow', () => {
    expect(workflows).toContain('release-images.yml');
  });

  it.each(workflows)('%s is valid for action-validator', (file) => {
    const result = validateWorkflow(path.join(WORKFLOWS_DIR, file));
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({ status: 0, output: '' });
  });

  it('action-validator rejects a workflow with a misspelt key (the check can fail)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-workflow-'));
    try {
      const broken = path.join(dir, 'broken.yml');
      fs.writeFileSync(
        broken,
        fs.readFileSync(RELEASE_WORKFLOW, 'utf8').replace('runs-on: windows-2022', 'run-on: windows-2022'),
      );
      const result = validateWorkflow(broken);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/run-on/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the release workflow', () => {
  const text = fs.readFileSync(RELEASE_WORKFLOW, 'utf8');
  const workflow = parse(text) as Any;
  const steps = (job: string) => workflow.jobs[job].steps as Any[];
  const step = (job: string, action: string) => steps(job).find((s) => String(s.uses ?? '').startsWith(action));

  it('runs on version tags and by hand', () => {
    expect(workflow.on.push.tags).toEqual(['v*']);
    expect(workflow.on.workflow_dispatch).toBeDefined();
  });

  it('takes the image references from deploy/scripts/release-images.mjs, with the release tag checked', () => {
    const references = steps('references').find((s) => s.id === 'images');
    expect(references.run).toBe('node deploy/scripts/release-images.mjs');
    expect(references.env.RELEASE_TAG).toMatch(/github\.ref_name/);
    expect(workflow.jobs.linux.needs).toBe('references');
    expect(workflow.jobs.windows.needs).toBe('references');
  });

  it('names no registry or image itself (the base kustomization is the one place)', () => {
    const { registry } = releaseOutputs();
    const withoutComments = JSON.stringify(workflow);
    expect(withoutComments).not.toContain(registry);
    expect(withoutComments).not.toMatch(/kappie-collector/);
  });

  it('builds collector/Dockerfile for linux/amd64 and linux/arm64 with buildx, tagged with the Linux reference', () => {
    const build = step('linux', 'docker/build-push-action');
    expect(build.with).toMatchObject({ context: '.', file: 'collector/Dockerfile' });
    expect(String(build.with.platforms).split(',').sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(build.with.tags).toBe('${{ needs.references.outputs.linux }}');
    expect(step('linux', 'docker/setup-buildx-action')).toBeDefined();
    expect(step('linux', 'docker/setup-qemu-action')).toBeDefined();
  });

  it('builds collector/Dockerfile.windows on Windows Server 2022 and pushes the Windows reference', () => {
    expect(workflow.jobs.windows['runs-on']).toBe('windows-2022');
    expect(workflow.jobs.windows.env.IMAGE).toBe('${{ needs.references.outputs.windows }}');
    const runs = steps('windows')
      .map((s) => s.run as string | undefined)
      .filter(Boolean);
    expect(runs).toEqual([
      'docker build --file collector/Dockerfile.windows --tag "$env:IMAGE" .',
      'docker push "$env:IMAGE"',
    ]);
  });

  it('pushes only after logging in to the registry of the references, and only when asked', () => {
    for (const job of ['linux', 'windows']) {
      const login = step(job, 'docker/login-action');
      expect(login.if).toBe("needs.references.outputs.push == 'true'");
      expect(login.with.registry).toBe('${{ needs.references.outputs.registry }}');
    }
    expect(step('linux', 'docker/build-push-action').with.push).toBe("${{ needs.references.outputs.push == 'true' }}");
  });

  it('pins every action to a major version or a commit', () => {
    const uses = Object.values(workflow.jobs as Record<string, Any>).flatMap((job) =>
      (job.steps as Any[]).map((s) => s.uses).filter(Boolean),
    );
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@(v\d+|[0-9a-f]{40})$/);
  });
});

describe('image references', () => {
  const outputs = releaseOutputs();

  it('are tagged with the collector version and name a registry', () => {
    expect(outputs.version).toBe(COLLECTOR_VERSION);
    expect(outputs.linux).toBe(`${outputs.linux!.split(':')[0]}:${COLLECTOR_VERSION}`);
    expect(outputs.linux).toMatch(new RegExp(`^${outputs.registry!.replace(/\./g, '\\.')}/.+/kappie-collector:`));
    expect(outputs.windows).toMatch(/\/kappie-collector-windows:/);
  });

  it.each(OVERLAYS)('are what overlay %s renders', (overlay) => {
    expect(renderedImages(renderKustomization(path.join(OVERLAYS_DIR, overlay)))).toEqual({
      linux: outputs.linux,
      windows: outputs.windows,
    });
  });

  it('a release tag that is not v<collector version> stops the release', () => {
    expect(releaseOutputs({ RELEASE_TAG: `v${COLLECTOR_VERSION}` }).linux).toBe(outputs.linux);
    const wrong = runScript(RELEASE_SCRIPT, [], { RELEASE_TAG: 'v99.0.0' });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/v99\.0\.0 does not match the collector version/);
  });

  it('are written as step outputs when GITHUB_OUTPUT is set', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-gh-output-'));
    try {
      const file = path.join(dir, 'output');
      fs.writeFileSync(file, '');
      expect(runScript(RELEASE_SCRIPT, [], { GITHUB_OUTPUT: file }).status).toBe(0);
      expect(fs.readFileSync(file, 'utf8')).toContain(`linux=${outputs.linux}\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('switching to your own registry (node deploy/scripts/set-image-registry.mjs)', () => {
  let copy: string;
  let kustomization: string;
  beforeEach(() => {
    // A copy of deploy/ with the layout the overlays refer to (../../base, ../../../azure).
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'kappie-registry-'));
    for (const dir of ['kubernetes', 'azure']) {
      fs.cpSync(path.join(DEPLOY_ROOT, dir), path.join(copy, dir), { recursive: true });
    }
    kustomization = path.join(copy, 'kubernetes', 'base', 'kustomization.yaml');
  });
  afterEach(() => fs.rmSync(copy, { recursive: true, force: true }));

  const setRegistry = (registry: string) =>
    runScript(SET_REGISTRY_SCRIPT, [registry], { KAPPIE_KUSTOMIZATION: kustomization });

  it.each(OVERLAYS)('moves both images of overlay %s, and again to another registry', (overlay) => {
    expect(setRegistry('myregistry.azurecr.io').status).toBe(0);
    expect(renderedImages(renderKustomization(path.join(copy, 'kubernetes', 'overlays', overlay)))).toEqual({
      linux: `myregistry.azurecr.io/kappie-collector:${COLLECTOR_VERSION}`,
      windows: `myregistry.azurecr.io/kappie-collector-windows:${COLLECTOR_VERSION}`,
    });
    expect(setRegistry('registry.example.com:5000/team/kappie').status).toBe(0);
    expect(renderedImages(renderKustomization(path.join(copy, 'kubernetes', 'overlays', overlay))).linux).toBe(
      `registry.example.com:5000/team/kappie/kappie-collector:${COLLECTOR_VERSION}`,
    );
  });

  it('keeps the rest of the kustomization byte for byte (comments included)', () => {
    const before = fs.readFileSync(kustomization, 'utf8');
    setRegistry('myregistry.azurecr.io');
    const after = fs.readFileSync(kustomization, 'utf8');
    const changed = after.split('\n').filter((line, index) => line !== before.split('\n')[index]);
    expect(changed).toEqual([
      '    newName: myregistry.azurecr.io/kappie-collector',
      '    newName: myregistry.azurecr.io/kappie-collector-windows',
    ]);
  });

  it.each(['https://myregistry.azurecr.io', 'myregistry.azurecr.io/', 'MyRegistry.azurecr.io', 'myregistry'])(
    'refuses %s with exit code 2 and says what a registry path is, leaving the file alone',
    (registry) => {
      const before = fs.readFileSync(kustomization, 'utf8');
      const result = setRegistry(registry);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/is not a registry path: give a host/);
      expect(fs.readFileSync(kustomization, 'utf8')).toBe(before);
    },
  );
});
