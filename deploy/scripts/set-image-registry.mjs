#!/usr/bin/env node
// Points the collector images of every overlay at your registry: rewrites the `images:` entries of
// deploy/kubernetes/base/kustomization.yaml (names and version tags kept). Needs only Node.js; run it again to switch
// again. From the repository root:
//
//   node deploy/scripts/set-image-registry.mjs myregistry.azurecr.io
//
// KAPPIE_KUSTOMIZATION=FILE edits another copy (the tests use one). Exit codes: 0 done, 2 bad argument (the message
// says what a registry path looks like).
import * as fs from 'node:fs';
import { BASE_KUSTOMIZATION, ImageReferenceError, imageReferences, withImageRegistry } from './image-references.mjs';

const USAGE = 'usage: node deploy/scripts/set-image-registry.mjs REGISTRY   (e.g. myregistry.azurecr.io)';

const [registry, ...rest] = process.argv.slice(2);
if (registry === undefined || registry === '--help' || rest.length > 0) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(registry === '--help' ? 0 : 2);
}
const file = process.env.KAPPIE_KUSTOMIZATION ?? BASE_KUSTOMIZATION;
try {
  const updated = withImageRegistry(fs.readFileSync(file, 'utf8'), registry, file);
  fs.writeFileSync(file, updated);
  const references = imageReferences(updated, file);
  process.stdout.write(`${file}: the overlays now use\n  ${references.linux}\n  ${references.windows}\n`);
} catch (error) {
  if (!(error instanceof ImageReferenceError)) throw error;
  process.stderr.write(`set-image-registry: ${error.message}\n`);
  process.exit(2);
}
