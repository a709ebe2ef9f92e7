import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import schema from './schema/plugin.schema.json';

/** Validates a plugin.json against Grafana's schema (vendored: see test/schema/SOURCE.md); returns the errors. */
export function pluginJsonErrors(pluginJson: unknown): string[] {
  // The schema's patterns escape `-` (`\-`), valid in Go's and non-unicode JS regexps, not with the `u` flag.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  if (validate(pluginJson)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`);
}
