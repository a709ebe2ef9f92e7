/**
 * Renders a kustomization with `kubectl kustomize` (kustomize built into kubectl: the same renderer
 * `kubectl apply -k` uses, with kustomize's default load restrictions), and reads YAML manifests.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parseAllDocuments } from 'yaml';

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Every non-empty document of a multi-document YAML text; a YAML error names `source`. */
export function parseYamlObjects(text: string, source: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${source}: ${document.errors[0]!.message}`);
      return document.toJS() as KubernetesObject | null;
    })
    .filter((object): object is KubernetesObject => object !== null);
}

export function readYamlObjects(file: string): KubernetesObject[] {
  return parseYamlObjects(fs.readFileSync(file, 'utf8'), file);
}

/** Why `kubectl kustomize` cannot run here, or undefined when it can. */
export function kustomizeUnavailable(): string | undefined {
  const result = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 30_000 });
  if (result.error) return `kubectl is not installed (${result.error.message})`;
  return result.status === 0 ? undefined : `kubectl version --client failed: ${result.stderr}`;
}

/**
 * The objects `kubectl apply -k dir` would apply, in kustomize's output order. Throws with kustomize's own message
 * when the kustomization is invalid (a missing file, a file outside the kustomization, an unknown field, ...).
 */
export function renderKustomization(dir: string): KubernetesObject[] {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw new Error(`kubectl kustomize ${dir} did not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${result.stderr.trim()}`);
  return parseYamlObjects(result.stdout, `kubectl kustomize ${dir}`);
}
