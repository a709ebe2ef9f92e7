/**
 * Writes small, valid BTF blobs for the parser's tests, record by record as Documentation/bpf/btf.rst lays them out
 * (12-byte type records plus their kind-specific data, a NUL-separated string section, a 24-byte header). Type ids
 * are handed out in order from 1, as the kernel numbers them.
 */
import { BTF_KIND, BTF_MAGIC } from '../../src/kernel/btf';

export interface BuilderMember {
  readonly name: string;
  readonly type: number;
  readonly bitOffset: number;
  /** Bitfield width; only with a kind_flag struct. */
  readonly bitfieldSize?: number;
}

export class BtfBuilder {
  private readonly strings: string[] = [''];
  private readonly stringOffsets = new Map<string, number>([['', 0]]);
  private stringLength = 1;
  private readonly records: number[][] = [];
  private readonly structs = new Map<string, number>();

  /** Id of the last struct or union written with this name. */
  idOf(name: string): number {
    const id = this.structs.get(name);
    if (id === undefined) throw new Error(`no struct ${name} written`);
    return id;
  }

  /** Offset of `name` in the string section (added once). */
  str(name: string): number {
    const known = this.stringOffsets.get(name);
    if (known !== undefined) return known;
    const offset = this.stringLength;
    this.strings.push(name);
    this.stringOffsets.set(name, offset);
    this.stringLength += Buffer.byteLength(name, 'latin1') + 1;
    return offset;
  }

  /** Appends raw words (a record and its data) and returns the new type id. */
  raw(words: number[]): number {
    this.records.push(words);
    return this.records.length;
  }

  private info(kind: number, vlen = 0, kindFlag = false): number {
    return ((kindFlag ? 1 : 0) << 31) | (kind << 24) | vlen;
  }

  int(name: string, size: number, options: { bits?: number; bitOffset?: number; signed?: boolean } = {}): number {
    const encoding = options.signed ? 1 : 0;
    const bits = options.bits ?? size * 8;
    return this.raw([
      this.str(name),
      this.info(BTF_KIND.int),
      size,
      (encoding << 24) | ((options.bitOffset ?? 0) << 16) | bits,
    ]);
  }

  ptr(target: number): number {
    return this.raw([0, this.info(BTF_KIND.ptr), target]);
  }

  typedef(name: string, target: number): number {
    return this.raw([this.str(name), this.info(BTF_KIND.typedef), target]);
  }

  qualifier(kind: 'const' | 'volatile' | 'restrict' | 'typeTag', target: number, name = ''): number {
    return this.raw([this.str(name), this.info(BTF_KIND[kind]), target]);
  }

  array(element: number, index: number, count: number): number {
    return this.raw([0, this.info(BTF_KIND.array), 0, element, index, count]);
  }

  private aggregate(kind: number, name: string, size: number, members: readonly BuilderMember[]): number {
    const kindFlag = members.some((m) => m.bitfieldSize !== undefined);
    const words = [this.str(name), this.info(kind, members.length, kindFlag), size];
    for (const m of members) {
      words.push(this.str(m.name), m.type, kindFlag ? ((m.bitfieldSize ?? 0) << 24) | m.bitOffset : m.bitOffset);
    }
    const id = this.raw(words);
    if (name !== '') this.structs.set(name, id);
    return id;
  }

  struct(name: string, size: number, members: readonly BuilderMember[]): number {
    return this.aggregate(BTF_KIND.struct, name, size, members);
  }

  union(name: string, size: number, members: readonly BuilderMember[]): number {
    return this.aggregate(BTF_KIND.union, name, size, members);
  }

  enumeration(name: string, size: number, values: readonly [string, number][]): number {
    const words = [this.str(name), this.info(BTF_KIND.enum, values.length), size];
    for (const [valueName, value] of values) words.push(this.str(valueName), value >>> 0);
    return this.raw(words);
  }

  forward(name: string, isUnion = false): number {
    return this.raw([this.str(name), this.info(BTF_KIND.fwd, 0, isUnion), 0]);
  }

  prototype(returns: number, parameters: readonly [string, number][]): number {
    const words = [0, this.info(BTF_KIND.funcProto, parameters.length), returns];
    for (const [name, type] of parameters) words.push(this.str(name), type);
    return this.raw(words);
  }

  func(name: string, prototype: number, linkage = 1): number {
    return this.raw([this.str(name), this.info(BTF_KIND.func, linkage), prototype]);
  }

  variable(name: string, type: number): number {
    return this.raw([this.str(name), this.info(BTF_KIND.var), type, 1]);
  }

  declTag(name: string, type: number, component = -1): number {
    return this.raw([this.str(name), this.info(BTF_KIND.declTag), type, component >>> 0]);
  }

  /** The blob: header, type section, string section; in either byte order. */
  build(options: { bigEndian?: boolean } = {}): Buffer {
    const little = !options.bigEndian;
    const typeWords = this.records.flat();
    const typeLength = typeWords.length * 4;
    const blob = Buffer.alloc(24 + typeLength + this.stringLength);
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    view.setUint16(0, BTF_MAGIC, little);
    view.setUint8(2, 1);
    view.setUint8(3, 0);
    view.setUint32(4, 24, little);
    view.setUint32(8, 0, little);
    view.setUint32(12, typeLength, little);
    view.setUint32(16, typeLength, little);
    view.setUint32(20, this.stringLength, little);
    typeWords.forEach((word, i) => view.setUint32(24 + i * 4, word >>> 0, little));
    let at = 24 + typeLength;
    for (const name of this.strings) {
      blob.write(name, at, 'latin1');
      at += Buffer.byteLength(name, 'latin1') + 1;
    }
    return blob;
  }
}

/**
 * A kernel-shaped BTF: `struct sk_buff` laid out as Debian's 6.1 has it where it matters (len at bit 896 after an
 * anonymous union; bitfields in a kind_flag struct; protocol inside an anonymous union of an anonymous struct and
 * a named one, as struct_group() makes it: byte 128 + 52 = 180; users, a refcount_t, at 220), with
 * kfree_skb_reason and sk_skb_reason_drop.
 */
export function kernelLikeBtf(): BtfBuilder {
  const b = new BtfBuilder();
  const u8 = b.int('unsigned char', 1);
  const u16 = b.int('short unsigned int', 2);
  const u32 = b.int('unsigned int', 4);
  b.int('long unsigned int', 8);
  const be16 = b.typedef('__be16', b.typedef('__u16', u16));
  const skbFwd = b.forward('sk_buff');
  const skbPtr = b.ptr(skbFwd);
  const listNode = b.struct('', 16, [
    { name: 'next', type: skbPtr, bitOffset: 0 },
    { name: 'prev', type: skbPtr, bitOffset: 64 },
  ]);
  const head = b.union('', 24, [{ name: '', type: listNode, bitOffset: 0 }]);
  const sock = b.struct('sock', 8, [{ name: 'sk_hash', type: u32, bitOffset: 0 }]);
  const sockPtr = b.ptr(sock);
  const headersInner = b.struct('', 56, [
    { name: 'mark', type: u32, bitOffset: 0 },
    { name: 'protocol', type: be16, bitOffset: 416 },
    { name: 'transport_header', type: u16, bitOffset: 432 },
  ]);
  const headersNamed = b.struct('', 56, [
    { name: 'mark', type: u32, bitOffset: 0 },
    { name: 'protocol', type: be16, bitOffset: 416 },
  ]);
  const headers = b.union('', 56, [
    { name: '', type: headersInner, bitOffset: 0 },
    { name: 'headers', type: headersNamed, bitOffset: 0 },
  ]);
  const cb = b.array(b.int('char', 1, { signed: true }), u32, 48);
  // refcount_t -> struct refcount_struct { atomic_t refs } -> atomic_t -> struct { int counter }, as in the kernel.
  const atomic = b.typedef(
    'atomic_t',
    b.struct('', 4, [{ name: 'counter', type: b.int('int', 4, { signed: true }), bitOffset: 0 }]),
  );
  const refcount = b.typedef(
    'refcount_t',
    b.struct('refcount_struct', 4, [{ name: 'refs', type: atomic, bitOffset: 0 }]),
  );
  const constU32 = b.qualifier('const', u32);
  const skbStruct = b.struct('sk_buff', 232, [
    { name: '', type: head, bitOffset: 0 },
    { name: 'sk', type: sockPtr, bitOffset: 192 },
    { name: 'cb', type: cb, bitOffset: 320 },
    { name: 'len', type: u32, bitOffset: 896 },
    { name: 'data_len', type: constU32, bitOffset: 928 },
    { name: 'cloned', type: u8, bitOffset: 1008, bitfieldSize: 1 },
    { name: 'fclone', type: u8, bitOffset: 1010, bitfieldSize: 2 },
    { name: '', type: headers, bitOffset: 1024 },
    { name: 'truesize', type: u32, bitOffset: 1728 },
    { name: 'users', type: refcount, bitOffset: 1760 },
  ]);
  const reason = b.enumeration('skb_drop_reason', 4, [
    ['SKB_NOT_DROPPED_YET', 0],
    ['SKB_DROP_REASON_NOT_SPECIFIED', 1],
    ['SKB_DROP_REASON_NO_SOCKET', 2],
  ]);
  const skb = b.ptr(skbStruct);
  b.func(
    'kfree_skb_reason',
    b.prototype(0, [
      ['skb', skb],
      ['reason', reason],
    ]),
  );
  b.func(
    'sk_skb_reason_drop',
    b.prototype(0, [
      ['sk', sockPtr],
      ['skb', skb],
      ['reason', reason],
    ]),
  );
  return b;
}
