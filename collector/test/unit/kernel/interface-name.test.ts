import fc from 'fast-check';
import { ParseError } from '../../../src/errors';
import {
  interfaceLabel,
  interfaceLabelOfLatin1,
  interfaceNameBytes,
  interfacePath,
} from '../../../src/kernel/interface-name';

const bytes = (...values: number[]) => Buffer.from(values);

describe('interface names: bytes to labels and back', () => {
  it('leaves every UTF-8 name without a backslash or control character as it is', () => {
    for (const name of ['eth0', 'lo', 'veth1a2b3c4d', 'azv0123456789a', 'nét0', '💩0', 'eth0:1', 'a"b', 'Ω-ü_€']) {
      expect(interfaceLabel(Buffer.from(name, 'utf8'))).toBe(name);
      expect(interfaceNameBytes(name)).toEqual(Buffer.from(name, 'utf8'));
    }
  });

  it('writes each byte that is not UTF-8 as \\xNN, so names differing only there stay apart', () => {
    const a = interfaceLabel(bytes(0x74, 0x36, 0xff, 0xfe));
    const b = interfaceLabel(bytes(0x74, 0x36, 0xfe, 0xff));
    expect([a, b]).toEqual(['t6\\xff\\xfe', 't6\\xfe\\xff']);
    // What a UTF-8 decoder makes of them: one string for both.
    expect(new TextDecoder().decode(bytes(0x74, 0x36, 0xff, 0xfe))).toBe(
      new TextDecoder().decode(bytes(0x74, 0x36, 0xfe, 0xff)),
    );
    // Ill-formed sequences per Unicode Table 3-7: overlong, surrogate, beyond U+10FFFF, cut, lone continuation.
    expect(interfaceLabel(bytes(0xc0, 0xaf))).toBe('\\xc0\\xaf');
    expect(interfaceLabel(bytes(0xed, 0xa0, 0x80))).toBe('\\xed\\xa0\\x80');
    expect(interfaceLabel(bytes(0xf4, 0x90, 0x80, 0x80))).toBe('\\xf4\\x90\\x80\\x80');
    expect(interfaceLabel(bytes(0x61, 0xe2, 0x82))).toBe('a\\xe2\\x82');
    expect(interfaceLabel(bytes(0x80, 0xc3, 0xa9))).toBe('\\x80é');
  });

  it('escapes a literal backslash as \\\\, so a name spelling an escape is not the name it spells', () => {
    expect(interfaceLabel(Buffer.from('t6\\xff', 'latin1'))).toBe('t6\\\\xff');
    expect(interfaceLabel(bytes(0x74, 0x36, 0xff))).toBe('t6\\xff');
    expect(interfaceNameBytes('t6\\\\xff')).toEqual(Buffer.from('t6\\xff', 'latin1'));
    expect(interfaceNameBytes('t6\\xff')).toEqual(bytes(0x74, 0x36, 0xff));
    expect(interfaceLabel(Buffer.from('a\\', 'latin1'))).toBe('a\\\\');
  });

  it('writes control characters (C0, DEL, C1) as \\xNN of their bytes', () => {
    expect(interfaceLabel(bytes(0x61, 0x1b, 0x7f))).toBe('a\\x1b\\x7f');
    expect(interfaceLabel(bytes(0x61, 0xc2, 0x85))).toBe('a\\xc2\\x85');
    expect(interfaceLabel(bytes(0x61, 0xc2, 0xa9))).toBe('a©');
  });

  it('round-trips every byte string, and distinct byte strings give distinct labels (property)', () => {
    const names = fc.uint8Array({ minLength: 0, maxLength: 15 });
    fc.assert(
      fc.property(names, (name) => {
        expect(interfaceNameBytes(interfaceLabel(name))).toEqual(Buffer.from(name));
        expect(interfaceLabelOfLatin1(Buffer.from(name).toString('latin1'))).toBe(interfaceLabel(name));
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(names, names, (a, b) => {
        if (!Buffer.from(a).equals(Buffer.from(b))) expect(interfaceLabel(a)).not.toBe(interfaceLabel(b));
      }),
      { numRuns: 5000 },
    );
    // Bytes drawn from the ones that make escapes (backslash, x, hex digits, invalid bytes) collide if anything does.
    const tricky = fc
      .uint8Array({ minLength: 0, maxLength: 8 })
      .map((values) =>
        Buffer.from(values.map((v) => [0x5c, 0x78, 0x66, 0x65, 0x30, 0xff, 0xfe, 0xc3, 0xa9, 0x1b][v % 10]!)),
      );
    fc.assert(
      fc.property(tricky, tricky, (a, b) => {
        expect(interfaceNameBytes(interfaceLabel(a))).toEqual(a);
        if (!a.equals(b)) expect(interfaceLabel(a)).not.toBe(interfaceLabel(b));
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses a string that is not the label of its own bytes', () => {
    for (const label of ['\\x41', '\\xFF', '\\x4', '\\q', 'a\\', '\u001b', 'a\ud800', '\\xc3\\xa9', 'é\\']) {
      expect(() => interfaceNameBytes(label)).toThrow(ParseError);
    }
  });

  it('makes paths: a string for a UTF-8 name, the bytes for any other', () => {
    expect(interfacePath('class/net/', 'eth0', '/ifindex')).toBe('class/net/eth0/ifindex');
    expect(interfacePath('class/net/', 'nét0', '')).toBe('class/net/nét0');
    expect(interfacePath('class/net/', 't6\\xff', '/ifindex')).toEqual(
      Buffer.concat([Buffer.from('class/net/t6'), bytes(0xff), Buffer.from('/ifindex')]),
    );
  });

  it('decodes a concatenation cut at an ASCII byte as the concatenation of the labels (sysfs lower_<name>)', () => {
    const name = bytes(0x74, 0x36, 0xff, 0x5c);
    expect(interfaceLabel(Buffer.concat([Buffer.from('lower_'), name]))).toBe(`lower_${interfaceLabel(name)}`);
  });
});
