/**
 * The BTF parser on blobs written record by record (test/helpers/btf-builder.ts) in the shape of the kernel's own
 * `struct sk_buff`; on the real /sys/kernel/btf/vmlinux of the CI kernel in test/kernel/btf.kernel.test.ts, and of
 * Debian's 6.1 and 6.12 inside qemu (kernels/).
 */
import fc from 'fast-check';
import { ParseError } from '../../src/errors';
import { Btf, functionParameters, memberLocation, parseBtf } from '../../src/kernel/btf';
import { BtfBuilder, kernelLikeBtf } from '../helpers/btf-builder';

/** Runs `read` and returns its result, or 'ParseError' when it threw one; any other exception fails the test. */
function resultOrParseError<T>(read: () => T): T | 'ParseError' {
  try {
    return read();
  } catch (error) {
    if (error instanceof ParseError) return 'ParseError';
    throw error;
  }
}

describe('BTF: struct members', () => {
  const btf = parseBtf(kernelLikeBtf().build(), 'kernel-like');

  it('gives the byte offset and size of sk_buff.len (what the kprobe fetches)', () => {
    expect(memberLocation(btf, 'sk_buff', 'len')).toEqual({ offset: 112, size: 4 });
  });

  it('finds members inside anonymous unions and structs, adding their offsets (protocol: 128 + 52)', () => {
    expect(memberLocation(btf, 'sk_buff', 'protocol')).toEqual({ offset: 180, size: 2 });
    expect(memberLocation(btf, 'sk_buff', 'next')).toEqual({ offset: 0, size: 8 });
    expect(memberLocation(btf, 'sk_buff', 'transport_header')).toEqual({ offset: 182, size: 2 });
  });

  it('sizes members through qualifiers, typedefs, arrays and pointers (the size of long)', () => {
    expect(memberLocation(btf, 'sk_buff', 'data_len')).toEqual({ offset: 116, size: 4 });
    expect(memberLocation(btf, 'sk_buff', 'cb')).toEqual({ offset: 40, size: 48 });
    expect(memberLocation(btf, 'sk_buff', 'sk')).toEqual({ offset: 24, size: 8 });
  });

  it('refuses bitfields (no byte offset to fetch), in kind_flag structs and as partial ints', () => {
    expect(() => memberLocation(btf, 'sk_buff', 'cloned')).toThrow(/bitfield/);
    const b = new BtfBuilder();
    const three = b.int('unsigned int', 4, { bits: 3 });
    b.struct('old', 4, [{ name: 'flags', type: three, bitOffset: 0 }]);
    expect(() => memberLocation(parseBtf(b.build()), 'old', 'flags')).toThrow(/bitfield/);
  });

  it('names what is missing', () => {
    expect(() => memberLocation(btf, 'sk_buf', 'len')).toThrow(/no struct sk_buf$/);
    expect(() => memberLocation(btf, 'sk_buff', 'lenght')).toThrow(/struct sk_buff has no member lenght/);
  });

  it('accepts duplicate definitions that agree and refuses ones that do not', () => {
    const agree = kernelLikeBtf();
    const u32 = agree.int('unsigned int', 4);
    agree.struct('sk_buff', 232, [{ name: 'len', type: u32, bitOffset: 896 }]);
    expect(memberLocation(parseBtf(agree.build()), 'sk_buff', 'len')).toEqual({ offset: 112, size: 4 });
    const disagree = kernelLikeBtf();
    disagree.struct('sk_buff', 232, [{ name: 'len', type: disagree.int('unsigned int', 4), bitOffset: 928 }]);
    expect(() => memberLocation(parseBtf(disagree.build()), 'sk_buff', 'len')).toThrow(/2 definitions .* disagree/);
  });

  it('refuses a member that lies outside its struct', () => {
    const b = new BtfBuilder();
    b.struct('small', 4, [{ name: 'len', type: b.int('unsigned int', 4), bitOffset: 32 }]);
    expect(() => memberLocation(parseBtf(b.build()), 'small', 'len')).toThrow(/outside the struct/);
  });
});

describe('BTF: function prototypes', () => {
  const btf = parseBtf(kernelLikeBtf().build());

  it('gives parameters in order with C spellings of their types', () => {
    expect(functionParameters(btf, 'kfree_skb_reason')).toEqual([
      { name: 'skb', type: 'struct sk_buff *' },
      { name: 'reason', type: 'enum skb_drop_reason' },
    ]);
    expect(functionParameters(btf, 'sk_skb_reason_drop').map((p) => p.name)).toEqual(['sk', 'skb', 'reason']);
  });

  it('spells forward declarations, qualifiers and arrays', () => {
    const b = new BtfBuilder();
    const char = b.int('char', 1, { signed: true });
    const name = b.ptr(b.qualifier('const', char));
    const table = b.array(b.typedef('u32', b.int('unsigned int', 4)), char, 4);
    b.func(
      'f',
      b.prototype(0, [
        ['dev', b.ptr(b.forward('net_device'))],
        ['name', name],
        ['t', b.ptr(table)],
        ['', 0],
      ]),
    );
    expect(functionParameters(parseBtf(b.build()), 'f')).toEqual([
      { name: 'dev', type: 'struct net_device *' },
      { name: 'name', type: 'const char *' },
      { name: 't', type: 'u32[4] *' },
      { name: '', type: '...' },
    ]);
  });

  it('refuses a missing function and same-named functions that disagree', () => {
    expect(() => functionParameters(btf, 'kfree_skb')).toThrow(/no function kfree_skb/);
    const b = kernelLikeBtf();
    b.func('kfree_skb_reason', b.prototype(0, []));
    expect(() => functionParameters(parseBtf(b.build()), 'kfree_skb_reason')).toThrow(/different parameters/);
  });
});

describe('BTF: the container', () => {
  it('reads big-endian BTF (the magic says the byte order) to the same answers', () => {
    const btf = parseBtf(kernelLikeBtf().build({ bigEndian: true }));
    expect(memberLocation(btf, 'sk_buff', 'protocol')).toEqual({ offset: 180, size: 2 });
    expect(functionParameters(btf, 'kfree_skb_reason')[0]).toEqual({ name: 'skb', type: 'struct sk_buff *' });
  });

  it('reads a longer header (newer kernels append fields) by its hdr_len', () => {
    const blob = kernelLikeBtf().build();
    const longer = Buffer.concat([blob.subarray(0, 24), Buffer.alloc(8), blob.subarray(24)]);
    longer.writeUInt32LE(32, 4);
    expect(memberLocation(parseBtf(longer), 'sk_buff', 'len')).toEqual({ offset: 112, size: 4 });
  });

  it('counts types from 1 (0 is void), every kind with its own record size', () => {
    const b = kernelLikeBtf();
    const u32 = b.int('unsigned int', 4);
    b.variable('jiffies', u32);
    b.declTag('tag', u32);
    b.raw([b.str('ktime'), (16 << 24) | 0, 8]); // FLOAT
    b.raw([0, (15 << 24) | 1, 8, u32, 0, 4]); // DATASEC with one variable
    const last = b.raw([b.str('big'), (19 << 24) | 1, 8, b.str('BIG'), 1, 0]); // ENUM64
    const btf = parseBtf(b.build());
    expect(btf.typeCount).toBe(last + 1);
    expect(btf.name(last)).toBe('big');
    expect(btf.kind(last)).toBe(19);
    expect(memberLocation(btf, 'sk_buff', 'len')).toEqual({ offset: 112, size: 4 });
  });

  const good = kernelLikeBtf().build();
  const broken: [string, (blob: Buffer) => Buffer, RegExp][] = [
    ['an empty file', () => Buffer.alloc(0), /shorter than a BTF header/],
    ['another magic', (b) => Object.assign(Buffer.from(b), { 0: 0x7f }), /magic 0x.* is not BTF's/],
    ['version 2', (b) => Object.assign(Buffer.from(b), { 2: 2 }), /version 2/],
    ['a truncated file', (b) => b.subarray(0, b.length - 10), /runs past the end/],
    [
      'a type section of a partial word',
      (b) => withHeader(b, 12, b.readUInt32LE(12) - 2),
      /whole number of 32-bit words/,
    ],
    ['overlapping sections', (b) => withHeader(b, 16, 0), /overlap/],
    ['a string section without its final NUL', (b) => Object.assign(Buffer.from(b), { [b.length - 1]: 0x41 }), /NUL/],
  ];
  it.each(broken)('refuses %s', (_what, corrupt, message) => {
    expect(() => parseBtf(corrupt(good), 'vmlinux')).toThrow(ParseError);
    expect(() => parseBtf(corrupt(good), 'vmlinux')).toThrow(message);
  });

  it('refuses unknown kinds, references to types that do not exist, and names outside the strings', () => {
    const unknownKind = new BtfBuilder();
    unknownKind.raw([0, 25 << 24, 0]);
    expect(() => parseBtf(unknownKind.build())).toThrow(/unknown kind 25/);
    const dangling = new BtfBuilder();
    dangling.ptr(7);
    expect(() => parseBtf(dangling.build())).toThrow(/refers to type 7, beyond the last/);
    const badMember = new BtfBuilder();
    badMember.struct('s', 4, [{ name: 'x', type: 9, bitOffset: 0 }]);
    expect(() => parseBtf(badMember.build())).toThrow(/item 0 refers to type 9/);
    const badName = new BtfBuilder();
    badName.raw([4096, 1 << 24, 4, 32]);
    expect(() => parseBtf(badName.build())).toThrow(/name offset 4096 is past the strings/);
  });

  it('refuses a typedef cycle instead of looping', () => {
    const b = new BtfBuilder();
    b.typedef('a', 2);
    b.typedef('b', 1);
    b.struct('s', 4, [{ name: 'x', type: 1, bitOffset: 0 }]);
    expect(() => memberLocation(parseBtf(b.build()), 's', 'x')).toThrow(/cycle/);
  });
});

function withHeader(blob: Buffer, at: number, value: number): Buffer {
  const copy = Buffer.from(blob);
  copy.writeUInt32LE(value, at);
  return copy;
}

describe('BTF: fuzzing (a ParseError or the right answer, never a crash or another number)', () => {
  const builder = kernelLikeBtf();
  const blob = builder.build();

  function answers(btf: Btf) {
    return {
      len: memberLocation(btf, 'sk_buff', 'len'),
      params: functionParameters(btf, 'kfree_skb_reason'),
    };
  }
  const right = answers(parseBtf(blob));

  it('random bytes: a ParseError or a parse', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        resultOrParseError(() => answers(parseBtf(bytes)));
      }),
    );
  });

  it('random bytes after a valid header: a ParseError or a parse', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 400 }), fc.nat(500), (body, strLen) => {
        const header = Buffer.alloc(24);
        header.writeUInt16LE(0xeb9f, 0);
        header.writeUInt8(1, 2);
        header.writeUInt32LE(24, 4);
        header.writeUInt32LE(0, 8);
        header.writeUInt32LE(body.length - (body.length % 4), 12);
        header.writeUInt32LE(body.length - (body.length % 4), 16);
        header.writeUInt32LE(strLen, 20);
        resultOrParseError(() => answers(parseBtf(Buffer.concat([header, body]))));
      }),
    );
  });

  it('every truncation is a ParseError', () => {
    for (let cut = 0; cut < blob.length; cut += 1) {
      expect(resultOrParseError(() => parseBtf(blob.subarray(0, cut)))).toBe('ParseError');
    }
  });

  it('a changed byte outside the bytes that state the answer: a ParseError or the same answer', () => {
    const btf = parseBtf(blob);
    const [skb] = btf.idsNamed(4, 'sk_buff');
    const [u32] = btf.idsNamed(1, 'unsigned int');
    // The records of sk_buff and of its len's type, and the names that select them, say where len is: changing
    // them changes the right answer. Everything else must not.
    const stated = [
      ...recordBytes(blob, skb!),
      ...recordBytes(blob, u32!),
      ...nameBytes(blob, 'sk_buff'),
      ...nameBytes(blob, 'len'),
    ];
    const free = [...Array(blob.length).keys()].filter((i) => i >= 24 && !stated.includes(i));
    fc.assert(
      fc.property(fc.constantFrom(...free), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const changed = Buffer.from(blob);
        changed[at] = (changed[at]! + delta) & 0xff;
        const result = resultOrParseError(() => answers(parseBtf(changed)));
        if (result !== 'ParseError') expect(result.len).toEqual(right.len);
      }),
      { numRuns: 2000 },
    );
  });
});

/** Byte positions of type `id`'s record and its members (walking the records as the kernel lays them out). */
function recordBytes(blob: Buffer, id: number): number[] {
  let at = 24;
  for (let current = 1; current < id; current += 1) at += recordLength(blob, at);
  return [...Array(recordLength(blob, at)).keys()].map((i) => at + i);
}

function recordLength(blob: Buffer, at: number): number {
  const info = blob.readUInt32LE(at + 4);
  const kind = (info >>> 24) & 0x1f;
  const vlen = info & 0xffff;
  const perItem: Record<number, number> = { 3: 0, 4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12 };
  const fixed: Record<number, number> = { 1: 4, 3: 12, 14: 4, 17: 4 };
  return 12 + (fixed[kind] ?? 0) + (perItem[kind] ?? 0) * vlen;
}

function nameBytes(blob: Buffer, name: string): number[] {
  const strings = 24 + blob.readUInt32LE(16);
  const at = blob.indexOf(Buffer.from(`\0${name}\0`, 'latin1'), strings);
  return [...Array(name.length + 2).keys()].map((i) => at + i);
}
