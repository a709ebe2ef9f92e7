/**
 * Validates Kubernetes objects against the Kubernetes API, twice:
 * - the OpenAPI schemas, with kubernetes-models' validators (types, required fields, formats, enums);
 * - unknown fields, which those validators accept: the objects are type-checked by tsc against kubernetes-models'
 *   interfaces generated from the same OpenAPI definitions (excess property checks reject a misspelt field).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KubernetesObject } from './kustomize';

const REPO_ROOT = path.join(__dirname, '..', '..', '..');
const VALIDATOR = path.join(__dirname, 'validate-kubernetes.mjs');

export interface SchemaResult {
  readonly kind: string;
  readonly name: string;
  readonly error: string | null;
}

export function validateAgainstSchemas(objects: readonly KubernetesObject[]): SchemaResult[] {
  const result = spawnSync(process.execPath, [VALIDATOR], {
    input: JSON.stringify(objects),
    encoding: 'utf8',
    cwd: REPO_ROOT,
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`kubernetes-models validation did not run: ${result.stderr}`);
  return JSON.parse(result.stdout) as SchemaResult[];
}

/**
 * kubernetes-models module and interface for an apiVersion and kind, e.g. apps/v1 DaemonSet; Prometheus Operator
 * kinds come from @kubernetes-models/prometheus-operator.
 */
function typeImport(object: KubernetesObject): { module: string; type: string } {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const module =
    group === ''
      ? `kubernetes-models/${version}/${object.kind}`
      : group === 'monitoring.coreos.com'
        ? `@kubernetes-models/prometheus-operator/${group}/${version}/${object.kind}`
        : `kubernetes-models/${group}/${version}/${object.kind}`;
  return { module, type: `I${object.kind}` };
}

/**
 * Type-checks the objects as object literals of kubernetes-models' interfaces; returns tsc's diagnostics (empty when
 * every field of every object is a field the API knows, with the right type).
 */
export function typeCheckObjects(objects: readonly KubernetesObject[]): string {
  // Inside the repository so that node_modules resolves; removed afterwards whatever happens.
  const dir = fs.mkdtempSync(path.join(REPO_ROOT, 'deploy', '.kubernetes-typecheck-'));
  try {
    const lines: string[] = [];
    objects.forEach((object, index) => {
      const { module, type } = typeImport(object);
      lines.push(`import type { ${type} as T${index} } from '${module}';`);
    });
    objects.forEach((object, index) => {
      lines.push(`// ${object.kind} ${object.metadata.name}`);
      lines.push(`export const object${index}: T${index} = ${JSON.stringify(object, null, 2)};`);
    });
    fs.writeFileSync(path.join(dir, 'objects.ts'), `${lines.join('\n')}\n`);
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          module: 'esnext',
          moduleResolution: 'bundler',
          target: 'es2022',
          types: [],
        },
        files: ['objects.ts'],
      }),
    );
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', timeout: 120_000 });
    return result.status === 0 ? '' : `${result.stdout}${result.stderr}`.trim() || `tsc exited ${result.status}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
