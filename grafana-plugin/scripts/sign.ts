/**
 * `npm run sign` (in grafana-plugin/): signs the built app with Grafana's `@grafana/sign-plugin` (pinned in
 * package.json, run from node_modules) and packs the signed dist/ into build/<id>-<version>.zip.
 *
 * The token comes from the environment, GRAFANA_ACCESS_POLICY_TOKEN: a Grafana Cloud access policy token with the
 * `plugins:write` scope, created in the Grafana Cloud org whose slug is the plugin id's first part. sign-plugin sends
 * the manifest (sha256 of every file in dist/) to grafana.com, which returns it signed; the result is
 * dist/MANIFEST.txt. Arguments after `--` go to sign-plugin, e.g. `npm run sign -- --rootUrls https://grafana.example.com/`
 * for a private signature (valid only for Grafanas served at those root URLs).
 *
 * Exits 1 with what to do when the app is not built or the token is missing; otherwise with sign-plugin's status.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packagePlugin } from './package-zip';

export const TOKEN_VARIABLE = 'GRAFANA_ACCESS_POLICY_TOKEN';

/** Why signing cannot start in `pluginDir` with `env`, or undefined when it can. */
export function signingProblem(pluginDir: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!existsSync(path.join(pluginDir, 'dist', 'plugin.json'))) {
    return 'dist/plugin.json is missing: build the app first (npm run build), then sign it.';
  }
  if (!env[TOKEN_VARIABLE]) {
    return (
      `${TOKEN_VARIABLE} is not set: create a Grafana Cloud access policy token with the plugins:write scope ` +
      '(grafana.com: My Account > Security > Access Policies), export it, then run npm run sign again.'
    );
  }
  return undefined;
}

export function signPlugin(pluginDir: string, args: readonly string[], env: NodeJS.ProcessEnv): number {
  const problem = signingProblem(pluginDir, env);
  if (problem) {
    process.stderr.write(`sign: ${problem}\n`);
    return 1;
  }
  const signPluginBin = require.resolve('@grafana/sign-plugin/dist/bin/run.js');
  const result = spawnSync(process.execPath, [signPluginBin, ...args], { cwd: pluginDir, env, stdio: 'inherit' });
  if (result.status !== 0) return result.status ?? 1;
  // The zip was packed before MANIFEST.txt existed: pack it again, signed.
  const zip = packagePlugin(pluginDir);
  process.stdout.write(`sign: wrote ${path.relative(process.cwd(), zip)} with dist/MANIFEST.txt\n`);
  return 0;
}

if (require.main === module) {
  process.exitCode = signPlugin(process.cwd(), process.argv.slice(2), process.env);
}
