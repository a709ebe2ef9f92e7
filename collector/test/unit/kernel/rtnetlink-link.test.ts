import * as fs from 'node:fs';
import * as path from 'node:path';
import { ParseError } from '../../../src/errors';
import {
  LINK_STATS64_FIELDS,
  linkDumpRequest,
  parseLinkChunk,
  parseLinkDump,
  type RtnetlinkLink,
} from '../../../src/kernel/rtnetlink-link';
import { FIXTURES } from '../../helpers/fixtures';
import { comparableLinks, linksFromIp } from '../../helpers/ip-link';
import {
  itFuzzesChunkParser,
  netlinkAttribute as attribute,
  netlinkDone,
  netlinkMessage as message,
} from '../../helpers/netlink-frames';

const DIR = path.join(FIXTURES, 'linux', 'rtnetlink');
/** Recorded by record.py in that directory from this kernel (6.18, x86_64: little-endian). */
const DUMP = fs.readFileSync(path.join(DIR, 'links.dump'));
const IP_JSON = fs.readFileSync(path.join(DIR, 'links.ip.json'), 'utf8');

/** An RTM_NEWLINK message for link `index` with the given attributes. */
function linkMessage(index: number, ...attributes: Buffer[]): Buffer {
  const ifinfomsg = Buffer.alloc(16);
  ifinfomsg.writeInt32LE(index, 4);
  return message(16, Buffer.concat([ifinfomsg, ...attributes]));
}

const DONE = netlinkDone();
const name = (text: string | Buffer) => attribute(3, Buffer.concat([Buffer.from(text), Buffer.alloc(1)]));
const stats64 = (counters: number) => {
  const payload = Buffer.alloc(counters * 8);
  for (let i = 0; i < counters; i++) payload.writeBigUInt64LE(BigInt(i) * 2n ** 40n + 1n, i * 8);
  return attribute(23, payload);
};

describe('parseLinkDump on a dump recorded from this kernel', () => {
  it('gives every link as `ip -s -s -d -j link` showed it at the same moment', () => {
    const dump = parseLinkDump(DUMP, true);
    expect(dump.interrupted).toBe(false);
    const fromIp = linksFromIp(IP_JSON);
    expect(comparableLinks(dump.links, fromIp)).toEqual(fromIp);
  });

  it('reads kind, master, peer namespace, UTF-8 name and all 25 counters of this kernel', () => {
    const links = new Map(parseLinkDump(DUMP, true).links.map((link) => [link.name, link]));
    expect([...links.keys()]).toEqual(['lo', 'br0', 'vpod0', 'brücke0', 'eth0', 'vlocal1', 'vlocal0']);
    const vpod = links.get('vpod0')!;
    expect([vpod.kind, vpod.masterIndex, vpod.linkNetnsId]).toEqual(['veth', links.get('br0')!.index, 0]);
    expect(links.get('vlocal0')!.linkNetnsId).toBeUndefined();
    expect(links.get('lo')!.kind).toBeUndefined();
    expect(links.get('brücke0')!.nameBytes).toEqual(Buffer.from('brücke0', 'utf8'));
    const eth0 = links.get('eth0')!.stats64!;
    expect(LINK_STATS64_FIELDS.filter((field) => eth0[field] !== undefined)).toEqual([...LINK_STATS64_FIELDS]);
    expect(links.get('eth0')!.stats64!.rx_packets).toBe(4n);
  });

  it('keeps the bytes of a name that is not UTF-8, and gives each its own label (interface-name.ts)', () => {
    const names = [
      [0x74, 0x36, 0xff, 0xfe],
      [0x74, 0x36, 0xfe, 0xff],
      [0x74, 0x36, 0x5c, 0x78, 0x66, 0x66, 0x5c, 0x78, 0x66, 0x65], // the label of the first, as bytes
    ].map((bytes) => Buffer.from(bytes));
    const dump = parseLinkDump(
      Buffer.concat([...names.map((bytes, i) => linkMessage(9 + i, name(bytes))), DONE]),
      true,
    );
    expect(dump.links.map((link) => link.name)).toEqual(['t6\\xff\\xfe', 't6\\xfe\\xff', 't6\\\\xff\\\\xfe']);
    expect(dump.links.map((link) => link.nameBytes)).toEqual(names);
  });

  it('reads 23 counters from an older kernel, and exact values beyond 2^53', () => {
    const [link] = parseLinkDump(Buffer.concat([linkMessage(4, name('eth9'), stats64(23)), DONE]), true).links;
    expect(link!.stats64!.tx_compressed).toBe(22n * 2n ** 40n + 1n);
    expect(link!.stats64!.rx_nohandler).toBeUndefined();
    expect(() => parseLinkDump(Buffer.concat([linkMessage(4, name('eth9'), stats64(22)), DONE]), true)).toThrow(
      /IFLA_STATS64 of 176 bytes holds 22 counters/,
    );
  });

  it('builds the request: RTM_GETLINK, request|dump, an empty ifinfomsg, IFLA_EXT_MASK RTEXT_FILTER_BRVLAN', () => {
    const request = linkDumpRequest(5, true);
    expect(request.length).toBe(40);
    expect([
      request.readUInt32LE(0),
      request.readUInt16LE(4),
      request.readUInt16LE(6),
      request.readUInt32LE(8),
    ]).toEqual([40, 18, 0x301, 5]);
    expect(request.subarray(16, 32)).toEqual(Buffer.alloc(16));
    // nla_len 8, nla_type IFLA_EXT_MASK (29), value 2: any mask makes the kernel size the dump for the largest link.
    expect([request.readUInt16LE(32), request.readUInt16LE(34), request.readUInt32LE(36)]).toEqual([8, 29, 2]);
    const bigEndian = linkDumpRequest(5, false);
    expect([bigEndian.readUInt16BE(32), bigEndian.readUInt16BE(34), bigEndian.readUInt32BE(36)]).toEqual([8, 29, 2]);
  });

  it('says when the kernel flagged the dump as interrupted', () => {
    const interrupted = Buffer.from(DUMP);
    interrupted.writeUInt16LE(interrupted.readUInt16LE(6) | 0x10, 6);
    expect(parseLinkDump(interrupted, true).interrupted).toBe(true);
  });

  it('reports kernel errors, a missing name, a missing NLMSG_DONE', () => {
    const errno = (type: number) => {
      const payload = Buffer.alloc(4);
      payload.writeInt32LE(-95, 0);
      return message(type, payload);
    };
    expect(() => parseLinkDump(errno(2), true)).toThrow(
      new ParseError('rtnetlink link dump', 'the kernel answered the dump with error 95'),
    );
    expect(() => parseLinkDump(errno(3), true)).toThrow(/ended the dump with error 95/);
    expect(() => parseLinkDump(Buffer.concat([linkMessage(3), DONE]), true)).toThrow(/link 3 has no IFLA_IFNAME/);
    expect(() => parseLinkDump(Buffer.concat([linkMessage(3, attribute(3, Buffer.from('eth0'))), DONE]), true)).toThrow(
      /not NUL-terminated/,
    );
    expect(() => parseLinkDump(DUMP.subarray(0, DUMP.length - DONE.length), true)).toThrow(/no NLMSG_DONE/);
  });
});

describe('parseLinkChunk fuzzing', () => {
  const parse = (bytes: Buffer, length: number) => {
    const dump = { links: [] as RtnetlinkLink[], interrupted: false };
    const done = parseLinkChunk(bytes, length, true, dump);
    for (const link of dump.links) {
      expect(link.index).toBeGreaterThan(0);
      expect(typeof link.name).toBe('string');
    }
    return done;
  };

  itFuzzesChunkParser(DUMP, parse, 600, 'links that each have an index and a name');
});
