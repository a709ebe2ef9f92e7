/**
 * The BTF parser on this machine's real /sys/kernel/btf/vmlinux, checked against bpftool (Debian's `bpftool`, an
 * independent reader of the same file): the offset and size of sk_buff.len and sk_buff.protocol, and the parameters
 * of the kernel's drop function. Debian's 6.1 and 6.12 get the same check against their own kprobes under qemu
 * (kernels/).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { functionParameters, memberLocation, parseBtf } from '../../src/kernel/btf';
import { KPROBE_TARGETS } from '../../src/sources/linux/drops/kprobe-bytes';

const VMLINUX = '/sys/kernel/btf/vmlinux';

interface RawType {
  kind: string;
  name: string;
  attributes: Record<string, string>;
  items: { name: string; attributes: Record<string, string> }[];
}

/** `bpftool btf dump file X format raw`: `[id] KIND 'name' key=value...` lines, items indented by a tab. */
function bpftoolTypes(file: string): Map<number, RawType> {
  const result = spawnSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'raw'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (result.status !== 0) throw new Error(`bpftool failed: ${result.stderr}`);
  const types = new Map<number, RawType>();
  let current: RawType | undefined;
  const attributes = (text: string) =>
    Object.fromEntries([...text.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  for (const line of result.stdout.split('\n')) {
    const type = /^\[(\d+)\] (\w+) '([^']*)'(.*)$/.exec(line);
    if (type) {
      current = { kind: type[2]!, name: type[3]!, attributes: attributes(type[4]!), items: [] };
      types.set(Number(type[1]), current);
      continue;
    }
    const item = /^\t'([^']*)'(.*)$/.exec(line);
    if (item && current) current.items.push({ name: item[1]!, attributes: attributes(item[2]!) });
  }
  return types;
}

/** sk_buff member location per bpftool's dump (descending into anonymous members, as C names them). */
function bpftoolMember(types: Map<number, RawType>, struct: string, member: string) {
  const resolve = (id: number): number => {
    const type = types.get(id)!;
    return ['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG'].includes(type.kind)
      ? resolve(Number(type.attributes['type_id']))
      : id;
  };
  const find = (id: number, base: number): { bits: number; type: number }[] =>
    types.get(id)!.items.flatMap((m) => {
      const bits = base + Number(m.attributes['bits_offset']);
      const type = Number(m.attributes['type_id']);
      if (m.name === member) return [{ bits, type }];
      if (m.name !== '(anon)') return [];
      const inner = resolve(type);
      return ['STRUCT', 'UNION'].includes(types.get(inner)!.kind) ? find(inner, bits) : [];
    });
  const structId = [...types].find(([, t]) => t.kind === 'STRUCT' && t.name === struct)![0];
  const [hit] = find(structId, 0);
  return { offset: hit!.bits / 8, size: Number(types.get(resolve(hit!.type))!.attributes['size']) };
}

const why = !fs.existsSync(VMLINUX)
  ? `${VMLINUX} is missing (kernel without CONFIG_DEBUG_INFO_BTF)`
  : spawnSync('bpftool', ['version']).status !== 0
    ? 'bpftool is not installed (apt-get install bpftool)'
    : undefined;
if (why) {
  // eslint-disable-next-line no-console
  console.warn(`skipping the BTF test on this kernel: ${why}`);
}

(why ? describe.skip : describe)('BTF of the running kernel, against bpftool', () => {
  const btf = why ? undefined : parseBtf(fs.readFileSync(VMLINUX), VMLINUX);
  const types = why ? undefined : bpftoolTypes(VMLINUX);

  it('counts the same types', () => {
    expect(btf!.typeCount).toBe(types!.size + 1);
  });

  it.each(['len', 'protocol'])('locates sk_buff.%s where bpftool does', (member) => {
    expect(memberLocation(btf!, 'sk_buff', member)).toEqual(bpftoolMember(types!, 'sk_buff', member));
  });

  it('reads the drop function the kernel has with the parameter names bpftool reads', () => {
    const target = KPROBE_TARGETS.find((fn) => [...types!.values()].some((t) => t.kind === 'FUNC' && t.name === fn));
    expect(target).toBeDefined();
    const func = [...types!.values()].find((t) => t.kind === 'FUNC' && t.name === target)!;
    const proto = types!.get(Number(func.attributes['type_id']))!;
    expect(functionParameters(btf!, target!).map((p) => p.name)).toEqual(proto.items.map((p) => p.name));
    expect(functionParameters(btf!, target!).filter((p) => p.type === 'struct sk_buff *')).toHaveLength(1);
  });
});
