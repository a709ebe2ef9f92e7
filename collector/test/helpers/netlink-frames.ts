/**
 * Netlink messages built by hand for the parser tests (little-endian host order, as the recordings of this x86_64
 * kernel), and the fuzz properties every netlink dump parser is held to.
 */
import fc from 'fast-check';
import { ParseError } from '../../src/errors';
import { NLA_HEADER_BYTES, NLMSG_DONE, NLMSG_HEADER_BYTES, netlinkAlign } from '../../src/kernel/netlink';

/** NLM_F_MULTI: set by the kernel on every message of a dump. */
const NLM_F_MULTI = 0x2;

/** `payload` zero-padded to the 4-byte netlink alignment. */
function padded(payload: Buffer): Buffer {
  return Buffer.concat([payload, Buffer.alloc(netlinkAlign(payload.length) - payload.length)]);
}

/** A message (`struct nlmsghdr` + `payload`) of `type`; seq and pid 0; `flags` NLM_F_MULTI unless told. */
export function netlinkMessage(type: number, payload: Buffer, flags = NLM_F_MULTI): Buffer {
  const header = Buffer.alloc(NLMSG_HEADER_BYTES);
  header.writeUInt32LE(NLMSG_HEADER_BYTES + payload.length, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(flags, 6);
  return Buffer.concat([header, padded(payload)]);
}

/** An attribute (`struct nlattr`/`rtattr` + `payload`) of `type` (flag bits such as NLA_F_NESTED included). */
export function netlinkAttribute(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(NLA_HEADER_BYTES);
  header.writeUInt16LE(NLA_HEADER_BYTES + payload.length, 0);
  header.writeUInt16LE(type, 2);
  return Buffer.concat([header, padded(payload)]);
}

/** The NLMSG_DONE message that ends a dump that succeeded (payload: the int 0). */
export function netlinkDone(): Buffer {
  return netlinkMessage(NLMSG_DONE, Buffer.alloc(4));
}

/**
 * A chunk parser under fuzz: parses `bytes[0, length)` into fresh state, checks what it gave with `expect`, and
 * returns whether the dump's NLMSG_DONE was reached. It may throw only a ParseError.
 */
export type ChunkParse = (bytes: Buffer, length: number) => boolean;

/** Every cut of the whole dump `sample` is a ParseError or (at a message boundary) not done: the reader reads on. */
export function assertCutDumpsReadOn(sample: Buffer, parse: ChunkParse): void {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: sample.length - 1 }), (cut) => {
      try {
        expect(parse(sample, cut)).toBe(false);
      } catch (error) {
        expect(error).toBeInstanceOf(ParseError);
      }
    }),
  );
}

/** `sample` with one byte changed anywhere is a ParseError or passes the checks of `parse`. */
export function assertChangedBytesParseOrReject(sample: Buffer, parse: ChunkParse): void {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: sample.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, value) => {
      const bytes = Buffer.from(sample);
      bytes[at] = value;
      assertParsesOrRejects(bytes, parse);
    }),
  );
}

/** Arbitrary bytes (up to `maxLength`) are a ParseError or pass the checks of `parse`, never a crash. */
export function assertArbitraryBytesParseOrReject(maxLength: number, parse: ChunkParse): void {
  fc.assert(fc.property(fc.uint8Array({ maxLength }), (array) => assertParsesOrRejects(Buffer.from(array), parse)));
}

function assertParsesOrRejects(bytes: Buffer, parse: ChunkParse): void {
  try {
    parse(bytes, bytes.length);
  } catch (error) {
    expect(error).toBeInstanceOf(ParseError);
  }
}

/**
 * The three fuzz cases of a chunk parser, as `it`s of the current describe: every cut of the whole dump `sample`, one
 * byte of it changed anywhere, and arbitrary bytes up to `maxArbitraryBytes`. `gives` says what a successful parse
 * must give (the checks `parse` makes), e.g. "whole counters".
 */
export function itFuzzesChunkParser(sample: Buffer, parse: ChunkParse, maxArbitraryBytes: number, gives: string): void {
  it('cut anywhere: a ParseError, or (at a message boundary) not done, so the reader keeps reading', () => {
    assertCutDumpsReadOn(sample, parse);
  });
  it(`one byte changed anywhere: a ParseError or ${gives}`, () => {
    assertChangedBytesParseOrReject(sample, parse);
  });
  it(`arbitrary bytes: a ParseError or ${gives}, never a crash`, () => {
    assertArbitraryBytesParseOrReject(maxArbitraryBytes, parse);
  });
}
