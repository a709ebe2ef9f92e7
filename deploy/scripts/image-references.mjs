// The collector image references, defined in ONE place: the `images:` list of deploy/kubernetes/base/kustomization.yaml
// (kustomize's images transformer sets them on the DaemonSets of every overlay). The release workflow reads them
// from there to know where to push (release-images.mjs), and set-image-registry.mjs points them at another registry.
//
// No dependencies beyond Node.js, so that the workflow and users run these scripts without `npm ci`. The file is read
// and edited line by line, only the `images:` entries (the shape `kustomize edit set image` writes); the tests check
// every result against what `kubectl kustomize` renders.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BASE_KUSTOMIZATION = path.join(REPO_ROOT, 'deploy', 'kubernetes', 'base', 'kustomization.yaml');
export const COLLECTOR_PACKAGE = path.join(REPO_ROOT, 'collector', 'package.json');

/** The image names the DaemonSets use (kustomize matches `images:` entries by these). */
export const IMAGE_NAMES = { linux: 'kappie-collector', windows: 'kappie-collector-windows' };

/**
 * A registry path: a host (with a dot or a port, or localhost) and optional namespaces, as Docker image references
 * allow (lower case, digits, '.', '_', '-'), without scheme or trailing slash. E.g. myregistry.azurecr.io,
 * ghcr.io/my-org.
 */
const REGISTRY = /^(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

export class ImageReferenceError extends Error {}

/**
 * The `images:` entries of a kustomization text: [{ name, newName, newTag, line }] with 0-based line numbers of the
 * newName line. Throws ImageReferenceError when an entry of IMAGE_NAMES is missing or lacks newName/newTag.
 */
export function readImageEntries(text, file = 'kustomization.yaml') {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => /^images:\s*(#.*)?$/.test(line));
  if (start < 0) throw new ImageReferenceError(`${file} has no top-level "images:" list`);
  const entries = [];
  let current;
  for (let index = start + 1; index < lines.length; index += 1) {
    const line = lines[index];
    if (/^\S/.test(line)) break; // the next top-level key
    const field = /^\s*(-\s+)?(name|newName|newTag):\s*['"]?([^'"\s#]+)['"]?\s*(#.*)?$/.exec(line);
    if (!field) continue;
    if (field[1]) {
      current = { name: undefined, newName: undefined, newTag: undefined, line: undefined };
      entries.push(current);
    }
    if (!current) continue;
    current[field[2]] = field[3];
    if (field[2] === 'newName') current.line = index;
  }
  for (const name of Object.values(IMAGE_NAMES)) {
    const entry = entries.find((e) => e.name === name);
    if (!entry) throw new ImageReferenceError(`${file}: "images:" has no entry for ${name}`);
    if (!entry.newName || !entry.newTag) {
      throw new ImageReferenceError(`${file}: the "images:" entry for ${name} needs both newName and newTag`);
    }
  }
  return entries;
}

/** { linux, windows } full references (registry/name:tag) and the registry host, from a kustomization text. */
export function imageReferences(text, file) {
  const entries = readImageEntries(text, file);
  const reference = (name) => {
    const entry = entries.find((e) => e.name === name);
    return `${entry.newName}:${entry.newTag}`;
  };
  const linux = entries.find((e) => e.name === IMAGE_NAMES.linux);
  return {
    linux: reference(IMAGE_NAMES.linux),
    windows: reference(IMAGE_NAMES.windows),
    registryHost: linux.newName.split('/')[0],
    tags: Object.values(IMAGE_NAMES).map((name) => entries.find((e) => e.name === name).newTag),
  };
}

/**
 * The kustomization text with every collector image moved to `registry` (names and tags kept): newName becomes
 * `<registry>/<image name>`. Throws ImageReferenceError for a registry that is not a registry path.
 */
export function withImageRegistry(text, registry, file) {
  if (!REGISTRY.test(registry)) {
    throw new ImageReferenceError(
      `"${registry}" is not a registry path: give a host and optional path, without https:// or a trailing slash ` +
        '(e.g. myregistry.azurecr.io or ghcr.io/my-org)',
    );
  }
  const lines = text.split('\n');
  for (const entry of readImageEntries(text, file)) {
    if (!Object.values(IMAGE_NAMES).includes(entry.name)) continue;
    lines[entry.line] = lines[entry.line].replace(entry.newName, `${registry}/${entry.name}`);
  }
  return lines.join('\n');
}

export function collectorVersion() {
  return JSON.parse(fs.readFileSync(COLLECTOR_PACKAGE, 'utf8')).version;
}
