/**
 * Renders a kustomization the way `kustomize build` would, for the subset of kustomize the manifests in
 * deploy/kubernetes and deploy/azure use (no kubectl or kustomize binary here): resources (files and kustomization
 * directories), namespace, labels without selectors, and strategic-merge patches with a kind/name target. Any other
 * field is an error, so a manifest change that needs more kustomize than this cannot pass unnoticed.
 *
 * It also enforces kustomize's default load restriction: a file must be inside the kustomization's directory (only
 * directories holding their own kustomization.yaml may be outside).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, parse } from 'yaml';

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  patches?: { path: string; target?: { kind?: string; name?: string } }[];
}

const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'labels', 'patches']);
/** Kinds without a namespace among those the manifests use. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
/** List fields whose items strategic merge patches match by name (as Kubernetes' patchMergeKey does). */
const MERGE_BY_NAME = new Set(['containers', 'initContainers', 'env', 'volumes', 'volumeMounts', 'ports']);

export function readYamlObjects(file: string): KubernetesObject[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
      return document.toJS() as KubernetesObject | null;
    })
    .filter((object): object is KubernetesObject => object !== null);
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Strategic merge: maps merge key by key, lists of named items merge by name, other lists are replaced. */
export function strategicMerge(target: unknown, patch: unknown, key = ''): unknown {
  if (isObject(target) && isObject(patch)) {
    const merged: Record<string, unknown> = { ...target };
    for (const [field, value] of Object.entries(patch)) {
      merged[field] = field in target ? strategicMerge(target[field], value, field) : value;
    }
    return merged;
  }
  if (Array.isArray(target) && Array.isArray(patch) && MERGE_BY_NAME.has(key)) {
    const merged = [...target] as Record<string, unknown>[];
    for (const item of patch as Record<string, unknown>[]) {
      const index = merged.findIndex((existing) => existing.name === item.name);
      if (index >= 0) merged[index] = strategicMerge(merged[index], item) as Record<string, unknown>;
      else merged.push(item);
    }
    return merged;
  }
  return patch;
}

export function renderKustomization(dir: string): KubernetesObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  if (!fs.existsSync(file)) throw new Error(`${dir} has no kustomization.yaml`);
  const kustomization = parse(fs.readFileSync(file, 'utf8')) as Kustomization;
  for (const field of Object.keys(kustomization)) {
    if (!SUPPORTED_FIELDS.has(field)) throw new Error(`${file}: "${field}" is not supported by the test renderer`);
  }
  if (kustomization.kind !== 'Kustomization') throw new Error(`${file}: kind must be Kustomization`);

  let objects: KubernetesObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const target = path.resolve(dir, resource);
    if (!fs.existsSync(target)) throw new Error(`${file}: resource ${resource} does not exist`);
    if (fs.statSync(target).isDirectory()) {
      objects.push(...renderKustomization(target));
    } else {
      if (!isInside(target, dir))
        throw new Error(`${file}: ${resource} is outside the kustomization (kustomize refuses it)`);
      objects.push(...readYamlObjects(target));
    }
  }

  for (const patch of kustomization.patches ?? []) {
    const patchFile = path.resolve(dir, patch.path);
    if (!isInside(patchFile, dir)) throw new Error(`${file}: patch ${patch.path} is outside the kustomization`);
    if (!fs.existsSync(patchFile)) throw new Error(`${file}: patch ${patch.path} does not exist`);
    const [patchObject] = readYamlObjects(patchFile);
    if (!patchObject) throw new Error(`${patchFile} is empty`);
    const kind = patch.target?.kind ?? patchObject.kind;
    const name = patch.target?.name ?? patchObject.metadata.name;
    const matches = objects.filter((object) => object.kind === kind && object.metadata.name === name);
    if (matches.length !== 1)
      throw new Error(`${file}: patch ${patch.path} matches ${matches.length} objects (${kind} ${name})`);
    objects = objects.map((object) =>
      matches.includes(object) ? (strategicMerge(object, patchObject) as KubernetesObject) : object,
    );
  }

  for (const label of kustomization.labels ?? []) {
    if (label.includeSelectors || label.includeTemplates) {
      throw new Error(`${file}: labels with includeSelectors/includeTemplates are not supported by the test renderer`);
    }
    objects = objects.map((object) => ({
      ...object,
      metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...label.pairs } },
    }));
  }

  if (kustomization.namespace !== undefined) {
    const namespace = kustomization.namespace;
    objects = objects.map((object) =>
      CLUSTER_SCOPED.has(object.kind) ? object : { ...object, metadata: { ...object.metadata, namespace } },
    );
  }
  return objects;
}
