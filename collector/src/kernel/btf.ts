/**
 * Pure parser of BTF, the BPF Type Format the kernel publishes its own types in (`/sys/kernel/btf/vmlinux` with
 * CONFIG_DEBUG_INFO_BTF). We need it where kprobe events cannot name arguments (no CONFIG_PROBE_EVENTS_BTF_ARGS:
 * Debian 6.1, Ubuntu 22.04's 5.15): there a probe fetches `skb->len` as `+OFFSET($argN):u32`, and OFFSET and N come
 * from the running kernel's BTF, never from a table of kernel versions.
 *
 * Format (Documentation/bpf/btf.rst, include/uapi/linux/btf.h), in the byte order of the kernel that wrote it:
 *  - header: u16 magic 0xeB9F, u8 version 1, u8 flags, u32 hdr_len, then u32 type_off, type_len, str_off, str_len,
 *    offsets counted from the end of the header (hdr_len bytes; newer kernels append fields we do not need).
 *  - type section: records back to back, type ids counting from 1 (0 is void). Each record is 12 bytes
 *    (u32 name_off, u32 info = vlen bits 0-15 | kind bits 24-28 | kind_flag bit 31, u32 size-or-type) followed by
 *    kind-specific data: INT 4 bytes; ARRAY 12; STRUCT/UNION 12 per member (name_off, type, offset: bits, or with
 *    kind_flag bitfield size << 24 | bit offset); ENUM 8 per value; FUNC_PROTO 8 per parameter (name_off, type);
 *    VAR 4; DATASEC 12 per variable; DECL_TAG 4; ENUM64 12 per value; the other kinds nothing.
 *  - string section: NUL-terminated names, the first one empty; name_off indexes into it.
 *
 * Every type id and name offset is checked while the records are walked, so lookups afterwards cannot read outside
 * the blob: bad input gives a ParseError naming the byte offset, never a crash or a number from elsewhere. Split BTF
 * (modules, ids continuing vmlinux's) is not supported: only vmlinux's own types are needed.
 */
import { ParseError } from '../errors';

export const BTF_MAGIC = 0xeb9f;

/** Kind numbers of include/uapi/linux/btf.h. */
export const BTF_KIND = {
  int: 1,
  ptr: 2,
  array: 3,
  struct: 4,
  union: 5,
  enum: 6,
  fwd: 7,
  typedef: 8,
  volatile: 9,
  const: 10,
  restrict: 11,
  func: 12,
  funcProto: 13,
  var: 14,
  datasec: 15,
  float: 16,
  declTag: 17,
  typeTag: 18,
  enum64: 19,
} as const;

const HEADER_MIN = 24;
/** The common record: name_off, info, size-or-type. */
const RECORD_WORDS = 3;
/** Typedef/qualifier chains longer than this are corrupt (real kernels use a handful of links). */
const MAX_CHAIN = 64;

/** Bytes after the 12-byte record: fixed part and size per vlen item, by kind. */
const TRAILER: Readonly<Record<number, { fixed: number; perItem: number }>> = {
  [BTF_KIND.int]: { fixed: 4, perItem: 0 },
  [BTF_KIND.ptr]: { fixed: 0, perItem: 0 },
  [BTF_KIND.array]: { fixed: 12, perItem: 0 },
  [BTF_KIND.struct]: { fixed: 0, perItem: 12 },
  [BTF_KIND.union]: { fixed: 0, perItem: 12 },
  [BTF_KIND.enum]: { fixed: 0, perItem: 8 },
  [BTF_KIND.fwd]: { fixed: 0, perItem: 0 },
  [BTF_KIND.typedef]: { fixed: 0, perItem: 0 },
  [BTF_KIND.volatile]: { fixed: 0, perItem: 0 },
  [BTF_KIND.const]: { fixed: 0, perItem: 0 },
  [BTF_KIND.restrict]: { fixed: 0, perItem: 0 },
  // FUNC's vlen is its linkage, not a count.
  [BTF_KIND.func]: { fixed: 0, perItem: 0 },
  [BTF_KIND.funcProto]: { fixed: 0, perItem: 8 },
  [BTF_KIND.var]: { fixed: 4, perItem: 0 },
  [BTF_KIND.datasec]: { fixed: 0, perItem: 12 },
  [BTF_KIND.float]: { fixed: 0, perItem: 0 },
  [BTF_KIND.declTag]: { fixed: 4, perItem: 0 },
  [BTF_KIND.typeTag]: { fixed: 0, perItem: 0 },
  [BTF_KIND.enum64]: { fixed: 0, perItem: 12 },
};

/** Kinds whose third word is a type id (the others hold a size). */
const REFERS_TO_TYPE: ReadonlySet<number> = new Set([
  BTF_KIND.ptr,
  BTF_KIND.typedef,
  BTF_KIND.volatile,
  BTF_KIND.const,
  BTF_KIND.restrict,
  BTF_KIND.func,
  BTF_KIND.funcProto,
  BTF_KIND.var,
  BTF_KIND.declTag,
  BTF_KIND.typeTag,
]);

/** Kinds that only qualify or rename another type: skipped when looking for what a type really is. */
const QUALIFIERS: ReadonlySet<number> = new Set([
  BTF_KIND.typedef,
  BTF_KIND.volatile,
  BTF_KIND.const,
  BTF_KIND.restrict,
  BTF_KIND.typeTag,
]);

/** Where a struct member lives, in bytes from the start of the struct (anonymous unions and structs included). */
export interface MemberLocation {
  readonly offset: number;
  readonly size: number;
}

/** One parameter of a kernel function, in declaration order; `type` is spelled as C would (`struct sk_buff *`). */
export interface FunctionParameter {
  readonly name: string;
  readonly type: string;
}

/** A parsed BTF blob: an index over its records, read on demand. Immutable. */
export class Btf {
  /** @internal Use parseBtf. */
  constructor(
    readonly file: string,
    /** The type section as 32-bit words in host order. */
    private readonly words: Uint32Array,
    /** Index into `words` of each type id's record (0 for void). */
    private readonly records: Uint32Array,
    private readonly strings: Uint8Array,
  ) {}

  /** Number of type ids, void (0) included. */
  get typeCount(): number {
    return this.records.length;
  }

  kind(id: number): number {
    return id === 0 ? 0 : (this.words[this.records[id]! + 1]! >>> 24) & 0x1f;
  }

  private vlen(id: number): number {
    return this.words[this.records[id]! + 1]! & 0xffff;
  }

  private kindFlag(id: number): boolean {
    return this.words[this.records[id]! + 1]! >>> 31 === 1;
  }

  /** The size (for INT, ENUM, STRUCT, UNION, DATASEC, FLOAT, ENUM64) or referenced type id (the others). */
  private third(id: number): number {
    return this.words[this.records[id]! + 2]!;
  }

  /** Word index of the kind-specific data after the 3-word record. */
  private trailer(id: number): number {
    return this.records[id]! + RECORD_WORDS;
  }

  private word(index: number): number {
    return this.words[index]!;
  }

  private nameAt(nameOffset: number): string {
    // parseBtf checked that every name offset is inside the section and that it ends with NUL.
    const end = this.strings.indexOf(0, nameOffset);
    return Buffer.from(this.strings.buffer, this.strings.byteOffset + nameOffset, end - nameOffset).toString('latin1');
  }

  /** The type's name ('' for anonymous types and void). */
  name(id: number): string {
    return id === 0 ? '' : this.nameAt(this.words[this.records[id]!]!);
  }

  private nameEquals(id: number, wanted: Uint8Array): boolean {
    const start = this.words[this.records[id]!]!;
    if (start + wanted.length >= this.strings.length) return false;
    for (let i = 0; i < wanted.length; i += 1) if (this.strings[start + i] !== wanted[i]) return false;
    return this.strings[start + wanted.length] === 0;
  }

  /** Every type id of `kind` named `name`. */
  idsNamed(kind: number, name: string): number[] {
    const wanted = Buffer.from(name, 'latin1');
    const ids: number[] = [];
    for (let id = 1; id < this.typeCount; id += 1) {
      if (this.kind(id) === kind && this.nameEquals(id, wanted)) ids.push(id);
    }
    return ids;
  }

  /** The id behind typedefs and qualifiers (const, volatile, restrict, type tags). */
  resolve(id: number): number {
    let current = id;
    for (let depth = 0; depth < MAX_CHAIN; depth += 1) {
      if (!QUALIFIERS.has(this.kind(current))) return current;
      current = this.third(current);
    }
    throw new ParseError(this.file, `type ${id}: typedef/qualifier chain longer than ${MAX_CHAIN}: a cycle`);
  }

  /** Size in bytes of a type; pointers take the size of `long`, which BTF does not record on its own. */
  sizeOf(id: number, depth = 0): number {
    if (depth > MAX_CHAIN) throw new ParseError(this.file, `type ${id}: array nesting deeper than ${MAX_CHAIN}`);
    const real = this.resolve(id);
    switch (this.kind(real)) {
      case BTF_KIND.int:
      case BTF_KIND.enum:
      case BTF_KIND.enum64:
      case BTF_KIND.struct:
      case BTF_KIND.union:
      case BTF_KIND.float:
        return this.third(real);
      case BTF_KIND.ptr:
        return this.pointerSize();
      case BTF_KIND.array: {
        const at = this.trailer(real);
        return this.sizeOf(this.word(at), depth + 1) * this.word(at + 2);
      }
      default:
        throw new ParseError(this.file, `type ${id} (kind ${this.kind(real)}) has no size`);
    }
  }

  private pointerSize(): number {
    for (const name of ['long unsigned int', 'long int']) {
      const [id] = this.idsNamed(BTF_KIND.int, name);
      if (id !== undefined) return this.third(id);
    }
    throw new ParseError(this.file, 'no "long" integer type: cannot tell the size of a pointer');
  }

  /** Members of a STRUCT or UNION: name, type id, bit offset and bitfield size (0 when not a bitfield). */
  members(id: number): { name: string; type: number; bitOffset: number; bitfieldSize: number }[] {
    const kind = this.kind(id);
    if (kind !== BTF_KIND.struct && kind !== BTF_KIND.union) {
      throw new ParseError(this.file, `type ${id} is not a struct or union (kind ${kind})`);
    }
    const withBitfields = this.kindFlag(id);
    const result = [];
    for (let i = 0, at = this.trailer(id); i < this.vlen(id); i += 1, at += 3) {
      const raw = this.word(at + 2);
      result.push({
        name: this.nameAt(this.word(at)),
        type: this.word(at + 1),
        bitOffset: withBitfields ? raw & 0xffffff : raw,
        bitfieldSize: withBitfields ? raw >>> 24 : 0,
      });
    }
    return result;
  }

  /** Parameters of a FUNC_PROTO: name ('' when unnamed) and type id (0 for a trailing `...`). */
  parameters(protoId: number): { name: string; type: number }[] {
    if (this.kind(protoId) !== BTF_KIND.funcProto) {
      throw new ParseError(this.file, `type ${protoId} is not a function prototype`);
    }
    const result = [];
    for (let i = 0, at = this.trailer(protoId); i < this.vlen(protoId); i += 1, at += 2) {
      result.push({ name: this.nameAt(this.word(at)), type: this.word(at + 1) });
    }
    return result;
  }

  /** The prototype a FUNC points at. */
  prototypeOf(funcId: number): number {
    if (this.kind(funcId) !== BTF_KIND.func) throw new ParseError(this.file, `type ${funcId} is not a function`);
    const proto = this.third(funcId);
    if (this.kind(proto) !== BTF_KIND.funcProto) {
      throw new ParseError(this.file, `function ${this.name(funcId)} points at type ${proto}, not a prototype`);
    }
    return proto;
  }

  /** Whether an INT type describes only some of its bits (a bitfield encoded the old way, without kind_flag). */
  isPartialInt(id: number): boolean {
    if (this.kind(id) !== BTF_KIND.int) return false;
    const encoding = this.word(this.trailer(id));
    const bits = encoding & 0xff;
    const bitOffset = (encoding >>> 16) & 0xff;
    return bitOffset !== 0 || bits !== this.third(id) * 8;
  }

  /** C spelling of a type: `struct sk_buff *`, `enum skb_drop_reason`, `u32`, `const char *`, `void`. */
  spell(id: number, depth = 0): string {
    if (depth > MAX_CHAIN) throw new ParseError(this.file, `type ${id}: chain longer than ${MAX_CHAIN}: a cycle`);
    const kind = this.kind(id);
    const name = this.name(id);
    switch (kind) {
      case 0:
        return 'void';
      case BTF_KIND.ptr:
        return `${this.spell(this.third(id), depth + 1)} *`;
      case BTF_KIND.const:
        return `const ${this.spell(this.third(id), depth + 1)}`;
      case BTF_KIND.volatile:
        return `volatile ${this.spell(this.third(id), depth + 1)}`;
      case BTF_KIND.restrict:
      case BTF_KIND.typeTag:
        return this.spell(this.third(id), depth + 1);
      case BTF_KIND.struct:
        return `struct ${name || '(anonymous)'}`;
      case BTF_KIND.union:
        return `union ${name || '(anonymous)'}`;
      case BTF_KIND.enum:
      case BTF_KIND.enum64:
        return `enum ${name || '(anonymous)'}`;
      case BTF_KIND.fwd:
        return `${this.kindFlag(id) ? 'union' : 'struct'} ${name}`;
      case BTF_KIND.array:
        return `${this.spell(this.word(this.trailer(id)), depth + 1)}[${this.word(this.trailer(id) + 2)}]`;
      case BTF_KIND.funcProto:
        return 'function';
      default:
        return name || `(kind ${kind})`;
    }
  }
}

function fail(file: string, detail: string): never {
  throw new ParseError(file, detail);
}

/** Per-item size in words of kinds whose items start with a name offset. */
const NAMED_ITEM_WORDS: Readonly<Partial<Record<number, number>>> = {
  [BTF_KIND.struct]: 3,
  [BTF_KIND.union]: 3,
  [BTF_KIND.enum]: 2,
  [BTF_KIND.enum64]: 3,
  [BTF_KIND.funcProto]: 2,
};

/** The first name offset or type id of one record that points outside the blob, described; else undefined. */
function recordProblem(words: Uint32Array, at: number, typeCount: number, stringsLength: number): string | undefined {
  const info = words[at + 1]!;
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  if (words[at]! >= stringsLength) return `name offset ${words[at]} is past the strings (${stringsLength} bytes)`;
  if (REFERS_TO_TYPE.has(kind) && words[at + 2]! >= typeCount)
    return `refers to type ${words[at + 2]}, beyond the last`;
  const trailer = at + RECORD_WORDS;
  const stride = NAMED_ITEM_WORDS[kind];
  if (stride !== undefined) {
    for (let i = 0; i < vlen; i += 1) {
      if (words[trailer + i * stride]! >= stringsLength) return `item ${i}: name offset past the strings`;
      // Members and parameters: the type id follows the name.
      if (kind !== BTF_KIND.enum && kind !== BTF_KIND.enum64 && words[trailer + i * stride + 1]! >= typeCount) {
        return `item ${i} refers to type ${words[trailer + i * stride + 1]}, beyond the last`;
      }
    }
  }
  if (kind === BTF_KIND.array && (words[trailer]! >= typeCount || words[trailer + 1]! >= typeCount)) {
    return 'array of a type beyond the last';
  }
  if (kind === BTF_KIND.datasec) {
    for (let i = 0; i < vlen; i += 1) {
      if (words[trailer + i * 3]! >= typeCount) return `variable ${i} refers to a type beyond the last`;
    }
  }
  return undefined;
}

/**
 * Parses a BTF blob (the bytes of /sys/kernel/btf/vmlinux). Checks the header, walks every type record, and checks
 * that every type id and name offset points inside the blob. Throws ParseError on anything else.
 */
export function parseBtf(bytes: Uint8Array, file = 'btf'): Btf {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEADER_MIN) fail(file, `${bytes.byteLength} bytes: shorter than a BTF header (24)`);
  const magicLittle = view.getUint16(0, true);
  if (magicLittle !== BTF_MAGIC && view.getUint16(0, false) !== BTF_MAGIC) {
    fail(file, `magic 0x${magicLittle.toString(16)} is not BTF's 0xeb9f`);
  }
  const little = magicLittle === BTF_MAGIC;
  const version = view.getUint8(2);
  if (version !== 1) fail(file, `BTF version ${version}: this parser reads version 1`);
  const header = (index: number) => view.getUint32(index * 4, little);
  const headerLength = header(1);
  if (headerLength < HEADER_MIN || headerLength > bytes.byteLength) {
    fail(file, `header length ${headerLength} is outside 24..${bytes.byteLength}`);
  }
  const [typeOff, typeLen, strOff, strLen] = [header(2), header(3), header(4), header(5)];
  const typesStart = headerLength + typeOff;
  const stringsStart = headerLength + strOff;
  if (typesStart + typeLen > bytes.byteLength) fail(file, `type section (${typeOff}+${typeLen}) runs past the end`);
  if (stringsStart + strLen > bytes.byteLength) fail(file, `string section (${strOff}+${strLen}) runs past the end`);
  if (typesStart < stringsStart + strLen && stringsStart < typesStart + typeLen) {
    fail(file, 'type and string sections overlap');
  }
  if (typeLen % 4 !== 0) fail(file, `type section length ${typeLen} is not a whole number of 32-bit words`);
  if (strLen === 0 || bytes[stringsStart] !== 0 || bytes[stringsStart + strLen - 1] !== 0) {
    fail(file, 'string section must start and end with a NUL byte');
  }

  // One copy of the type section as aligned host-order words: every later read is an array index.
  const words = new Uint32Array(typeLen / 4);
  for (let i = 0; i < words.length; i += 1) words[i] = view.getUint32(typesStart + i * 4, little);
  const records = new Uint32Array(Math.floor(words.length / RECORD_WORDS) + 1);
  let count = 1;
  for (let at = 0; at < words.length;) {
    if (at + RECORD_WORDS > words.length) fail(file, `type ${count} at byte ${typesStart + at * 4}: cut short`);
    const info = words[at + 1]!;
    const kind = (info >>> 24) & 0x1f;
    const trailer = TRAILER[kind];
    if (!trailer) fail(file, `type ${count} at byte ${typesStart + at * 4}: unknown kind ${kind}`);
    const next = at + RECORD_WORDS + (trailer.fixed + trailer.perItem * (info & 0xffff)) / 4;
    if (next > words.length) fail(file, `type ${count} at byte ${typesStart + at * 4}: runs past the type section`);
    records[count] = at;
    count += 1;
    at = next;
  }
  const used = records.subarray(0, count);
  for (let id = 1; id < count; id += 1) {
    const problem = recordProblem(words, used[id]!, count, strLen);
    if (problem) fail(file, `type ${id} at byte ${typesStart + used[id]! * 4}: ${problem}`);
  }
  return new Btf(file, words, used, bytes.subarray(stringsStart, stringsStart + strLen));
}

/** The member path to `member` inside struct or union `id`, descending into anonymous members; bit offset. */
function findMember(btf: Btf, id: number, member: string, depth: number): { type: number; bitOffset: number }[] {
  if (depth > MAX_CHAIN) throw new ParseError(btf.file, `anonymous members nested deeper than ${MAX_CHAIN}`);
  const found: { type: number; bitOffset: number }[] = [];
  for (const m of btf.members(id)) {
    if (m.name === member) {
      if (m.bitfieldSize !== 0 || btf.isPartialInt(btf.resolve(m.type))) {
        throw new ParseError(btf.file, `${btf.spell(id)}.${member} is a bitfield: no byte offset to fetch`);
      }
      found.push({ type: m.type, bitOffset: m.bitOffset });
    } else if (m.name === '') {
      const inner = btf.resolve(m.type);
      const kind = btf.kind(inner);
      if (kind === BTF_KIND.struct || kind === BTF_KIND.union) {
        for (const hit of findMember(btf, inner, member, depth + 1)) {
          found.push({ type: hit.type, bitOffset: m.bitOffset + hit.bitOffset });
        }
      }
    }
  }
  return found;
}

/**
 * Byte offset and size of `member` in `struct structName` (found inside anonymous unions and structs too, as C
 * lets code name them). Throws ParseError when the struct or member is missing, is a bitfield, lies outside the
 * struct, or when several definitions of the struct disagree.
 */
export function memberLocation(btf: Btf, structName: string, member: string): MemberLocation {
  const ids = btf.idsNamed(BTF_KIND.struct, structName);
  if (ids.length === 0) throw new ParseError(btf.file, `no struct ${structName}`);
  const locations = ids.map((id) => {
    const hits = findMember(btf, id, member, 0);
    if (hits.length === 0) throw new ParseError(btf.file, `struct ${structName} has no member ${member}`);
    if (hits.length > 1) throw new ParseError(btf.file, `struct ${structName} has ${hits.length} members ${member}`);
    const { type, bitOffset } = hits[0]!;
    if (bitOffset % 8 !== 0) {
      throw new ParseError(btf.file, `${structName}.${member} starts at bit ${bitOffset}, not on a byte`);
    }
    const location = { offset: bitOffset / 8, size: btf.sizeOf(type) };
    if (location.offset + location.size > btf.sizeOf(id)) {
      throw new ParseError(
        btf.file,
        `${structName}.${member} (${location.offset}+${location.size}) lies outside the struct (${btf.sizeOf(id)} bytes)`,
      );
    }
    return location;
  });
  const first = locations[0]!;
  if (locations.some((l) => l.offset !== first.offset || l.size !== first.size)) {
    throw new ParseError(btf.file, `${ids.length} definitions of struct ${structName} disagree on ${member}`);
  }
  return first;
}

/**
 * Parameters of kernel function `name`, in order. Throws ParseError when there is no such function or when several
 * functions of that name (static ones in different files) disagree.
 */
export function functionParameters(btf: Btf, name: string): FunctionParameter[] {
  const ids = btf.idsNamed(BTF_KIND.func, name);
  if (ids.length === 0) throw new ParseError(btf.file, `no function ${name}`);
  const lists = ids.map((id) =>
    btf.parameters(btf.prototypeOf(id)).map((p) => ({ name: p.name, type: p.type === 0 ? '...' : btf.spell(p.type) })),
  );
  const first = JSON.stringify(lists[0]);
  if (lists.some((list) => JSON.stringify(list) !== first)) {
    throw new ParseError(btf.file, `${ids.length} functions named ${name} have different parameters`);
  }
  return lists[0]!;
}
