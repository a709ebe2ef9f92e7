/**
 * Kernel modules the guest needs (veth for namespaces, nf_tables for nft, the socket diag modules for SOCK_DIAG),
 * with their dependencies in load order, from the kernel package's own `modules.dep` (written by depmod) and
 * `modules.builtin`. Pure.
 */

/**
 * Modules the guest suite and the collector use (bonding for the enslaved-uplink shape: the CI kernel has none); a
 * module built into the kernel needs nothing.
 */
export const GUEST_MODULES = ['veth', 'nf_tables', 'nft_objref', 'inet_diag', 'tcp_diag', 'udp_diag', 'bonding'];

export interface ModulePlan {
  /** Paths relative to /lib/modules/<release>, dependencies first. */
  readonly load: readonly string[];
  /** Wanted modules built into the kernel. */
  readonly builtin: readonly string[];
  /** Wanted modules this kernel has in neither form. */
  readonly missing: readonly string[];
}

/** `kernel/net/netfilter/nf_tables.ko.xz` -> `nf_tables` (module names treat - and _ alike). */
export function moduleName(modulePath: string): string {
  const base = modulePath.slice(modulePath.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** `modules.dep`: `path: dep dep...` per line; throws on a line without the colon. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const dependencies = new Map<string, string[]>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon < 0) throw new Error(`modules.dep line ${index + 1}: no colon in ${JSON.stringify(line.slice(0, 80))}`);
    const deps = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter((d) => d !== '');
    dependencies.set(line.slice(0, colon).trim(), deps);
  });
  return dependencies;
}

/** What to load for `wanted`: each module after everything it depends on, each once. */
export function planModules(modulesDep: string, modulesBuiltin: string, wanted: readonly string[]): ModulePlan {
  const dependencies = parseModulesDep(modulesDep);
  const byName = new Map([...dependencies.keys()].map((p) => [moduleName(p), p]));
  const builtinNames = new Set(
    modulesBuiltin
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(moduleName),
  );
  const load: string[] = [];
  const visiting = new Set<string>();
  const visit = (modulePath: string) => {
    if (load.includes(modulePath) || visiting.has(modulePath)) return;
    visiting.add(modulePath);
    for (const dep of dependencies.get(modulePath) ?? []) visit(dep);
    load.push(modulePath);
  };
  const builtin: string[] = [];
  const missing: string[] = [];
  for (const name of wanted) {
    const modulePath = byName.get(moduleName(name));
    if (modulePath) visit(modulePath);
    else if (builtinNames.has(moduleName(name))) builtin.push(name);
    else missing.push(name);
  }
  return { load, builtin, missing };
}
