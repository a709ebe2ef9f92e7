#!/usr/bin/env node
// Prints the image references the release workflow builds and pushes, read from the one place they are defined
// (deploy/kubernetes/base/kustomization.yaml, `images:`), after checking that their tags are the collector version
// and, for a release tag (RELEASE_TAG=v1.2.3), that the tag is that version.
//
//   node deploy/scripts/release-images.mjs                      # linux=..., windows=..., registry=..., version=...
//   RELEASE_TAG=v0.1.0 node deploy/scripts/release-images.mjs   # the same, or exit 1 when the tag is not v<version>
//
// With GITHUB_OUTPUT set (GitHub Actions), the lines are also appended to that file as step outputs.
// KAPPIE_KUSTOMIZATION=FILE reads another copy of the kustomization (the tests use one).
import * as fs from 'node:fs';
import { BASE_KUSTOMIZATION, ImageReferenceError, collectorVersion, imageReferences } from './image-references.mjs';

function main() {
  const file = process.env.KAPPIE_KUSTOMIZATION ?? BASE_KUSTOMIZATION;
  const references = imageReferences(fs.readFileSync(file, 'utf8'), file);
  const version = collectorVersion();
  for (const tag of references.tags) {
    if (tag !== version) {
      throw new ImageReferenceError(
        `${file}: image tag ${tag} is not the collector version ${version} (collector/package.json): set newTag to ${version}`,
      );
    }
  }
  const releaseTag = process.env.RELEASE_TAG ?? '';
  if (releaseTag !== '' && releaseTag !== `v${version}`) {
    throw new ImageReferenceError(
      `release tag ${releaseTag} does not match the collector version ${version}: tag the release v${version}`,
    );
  }
  const output = [
    `linux=${references.linux}`,
    `windows=${references.windows}`,
    `registry=${references.registryHost}`,
    `version=${version}`,
  ].join('\n');
  process.stdout.write(`${output}\n`);
  if (process.env.GITHUB_OUTPUT) fs.appendFileSync(process.env.GITHUB_OUTPUT, `${output}\n`);
}

try {
  main();
} catch (error) {
  if (!(error instanceof ImageReferenceError)) throw error;
  process.stderr.write(`release-images: ${error.message}\n`);
  process.exit(1);
}
