// Validates Kubernetes objects against the API's OpenAPI schemas with kubernetes-models, and Prometheus Operator
// objects (monitoring.coreos.com) against the operator's CRD schemas with @kubernetes-models/prometheus-operator
// (ESM-only packages, so it runs here in plain Node rather than inside Jest). Reads a JSON array of objects on stdin and writes a JSON array of
// { kind, name, error } results: error is null for a valid object.
import * as prometheusOperatorModels from '@kubernetes-models/prometheus-operator';
import * as kubernetesModels from 'kubernetes-models';

/** kubernetes-models' index exports the core group as `v1` and other groups by name with their versions inside. */
function modelFor(apiVersion, kind) {
  const candidates = [];
  for (const group of [...Object.values(kubernetesModels), ...Object.values(prometheusOperatorModels)]) {
    candidates.push(group);
    for (const version of Object.values(group)) if (version && typeof version === 'object') candidates.push(version);
  }
  for (const namespace of candidates) {
    const model = namespace[kind];
    if (typeof model === 'function' && model.apiVersion === apiVersion && model.kind === kind) return model;
  }
  throw new Error(`no Kubernetes schema for ${apiVersion} ${kind}`);
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map((object) => {
  const name = object?.metadata?.name ?? '(unnamed)';
  try {
    const Model = modelFor(object.apiVersion, object.kind);
    new Model(object).validate();
    return { kind: object.kind, name, error: null };
  } catch (error) {
    return { kind: object?.kind, name, error: String(error?.message ?? error) };
  }
});
process.stdout.write(JSON.stringify(results));
