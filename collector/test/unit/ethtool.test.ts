/**
 * The ethtool ioctl buffers: replies recorded from the real kernel (6.18: a veth in a namespace, the VM's virtio_net
 * NIC and loopback, each read with ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS and ETHTOOL_GSTATS, beside `ethtool -S` of the
 * same moment), replies built the way the kernel lays them out, and fuzzed bytes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { ParseError } from '../../src/errors';
import {
  entriesWithSlack,
  ETH_GSTRING_LEN,
  ETHTOOL_GSSET_INFO,
  ETHTOOL_GSTATS,
  ETHTOOL_GSTRINGS,
  interfaceNameField,
  parseSsetInfo,
  parseStats,
  parseStrings,
  selectDriverStatistics,
  ssetInfoRequest,
  statsRequest,
  stringsRequest,
} from '../../src/kernel/ethtool';
import { parseEthtoolStatistics } from '../helpers/ethtool-text';
import { FIXTURES } from '../helpers/fixtures';
import { NETDEV_STATISTIC_NAMES } from '../../src/sources/linux/ethtool';

const recorded = (name: string) => fs.readFileSync(path.join(FIXTURES, 'linux', 'ethtool', name));

/** A GSTRINGS reply as the kernel writes it: header with the count, then 32-byte NUL-padded names. */
function stringsReply(names: readonly string[], capacity: number, littleEndian: boolean): Buffer {
  const reply = stringsRequest(names.length, capacity, littleEndian);
  names.forEach((name, index) => reply.write(name, 12 + index * ETH_GSTRING_LEN, ETH_GSTRING_LEN, 'latin1'));
  return reply;
}

function statsReply(values: readonly bigint[], capacity: number, littleEndian: boolean): Buffer {
  const reply = statsRequest(values.length, capacity, littleEndian);
  values.forEach((value, index) =>
    littleEndian ? reply.writeBigUInt64LE(value, 8 + index * 8) : reply.writeBigUInt64BE(value, 8 + index * 8),
  );
  return reply;
}

describe('replies recorded from the kernel', () => {
  it.each(['veth', 'virtio-net'])('%s: the names and values ethtool -S printed, in its order', (device) => {
    const count = parseSsetInfo(recorded(`${device}.sset-info`), true);
    const names = parseStrings(recorded(`${device}.gstrings`), true);
    const values = parseStats(recorded(`${device}.gstats`), true);
    const printed = parseEthtoolStatistics(recorded(`${device}.ethtool-S.txt`).toString('latin1'));
    expect(count).toBe(printed.size);
    expect(names).toEqual([...printed.keys()]);
    expect(values).toEqual([...printed.values()]);
  });

  it("reads veth's statistics (none of which is named like a /proc/net/dev counter)", () => {
    const names = parseStrings(recorded('veth.gstrings'), true);
    expect(names.slice(0, 3)).toEqual(['peer_ifindex', 'rx_queue_0_xdp_packets', 'rx_queue_0_xdp_bytes']);
    expect(names.filter((name) => NETDEV_STATISTIC_NAMES.has(name))).toEqual([]);
  });

  it('finds no statistics on loopback (the kernel clears the ETH_SS_STATS bit)', () => {
    expect(parseSsetInfo(recorded('loopback.sset-info'), true)).toBeUndefined();
  });
});

describe('requests', () => {
  it('asks GSSET_INFO for the size of ETH_SS_STATS only', () => {
    const request = ssetInfoRequest(true);
    expect([request.length, request.readUInt32LE(0), request.readBigUInt64LE(8)]).toEqual([20, ETHTOOL_GSSET_INFO, 2n]);
    expect(ssetInfoRequest(false).readUInt32BE(0)).toBe(ETHTOOL_GSSET_INFO);
  });

  it('sends the expected count in a buffer with room to spare', () => {
    const strings = stringsRequest(10, entriesWithSlack(10), true);
    expect([strings.readUInt32LE(0), strings.readUInt32LE(4), strings.readUInt32LE(8)]).toEqual([
      ETHTOOL_GSTRINGS,
      1,
      10,
    ]);
    expect(strings.length).toBe(12 + 84 * ETH_GSTRING_LEN);
    const stats = statsRequest(10, entriesWithSlack(10), false);
    expect([stats.readUInt32BE(0), stats.readUInt32BE(4), stats.length]).toEqual([ETHTOOL_GSTATS, 10, 8 + 84 * 8]);
  });

  it('puts a valid interface name in ifr_name and refuses what the kernel cannot name', () => {
    expect(interfaceNameField('enP30832s1')).toEqual(Buffer.from('enP30832s1\0\0\0\0\0\0', 'latin1'));
    // A non-ASCII name is its UTF-8 bytes (as /proc/net/dev and `ip` give it); 15 bytes at most, not 15 characters.
    expect(interfaceNameField('nét0')).toEqual(Buffer.concat([Buffer.from('nét0', 'utf8'), Buffer.alloc(11)]));
    // A name that is not UTF-8 is given back as its bytes (its label's escapes turned back, interface-name.ts).
    expect(interfaceNameField('t6\\xff\\xfe')).toEqual(Buffer.from([0x74, 0x36, 0xff, 0xfe, ...Array(12).fill(0)]));
    expect(interfaceNameField('t6\\\\xff')).toEqual(
      Buffer.concat([Buffer.from('t6\\xff', 'latin1'), Buffer.alloc(10)]),
    );
    for (const bad of ['', 'a'.repeat(16), 'eth 0', 'a/b', 'eth0:1', 'é'.repeat(8), '\\x41', 'a\\xa0', 'a\\x09']) {
      expect(() => interfaceNameField(bad)).toThrow(ParseError);
    }
  });
});

describe('parsers', () => {
  const name = fc.stringMatching(/^[a-z0-9_]{1,32}$/);

  it.each([true, false])('round-trips any names and values the kernel could write (little endian %s)', (le) => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { maxLength: 80 }),
        fc.nat(100),
        (pairs, spare) => {
          const names = pairs.map(([n]) => n);
          const values = pairs.map(([, v]) => v);
          expect(parseStrings(stringsReply(names, names.length + spare, le), le)).toEqual(names);
          expect(parseStats(statsReply(values, values.length + spare, le), le)).toEqual(values);
        },
      ),
    );
  });

  it('refuses a reply that claims more entries than its buffer holds', () => {
    const strings = stringsReply(['a', 'b'], 2, true);
    strings.writeUInt32LE(3, 8);
    expect(() => parseStrings(strings, true)).toThrow(/3 names in a buffer for 2/);
    const stats = statsReply([1n], 1, true);
    stats.writeUInt32LE(2, 4);
    expect(() => parseStats(stats, true)).toThrow(/2 values in a buffer for 1/);
  });

  it('refuses replies of another command or string set, and GSSET_INFO bits not asked for', () => {
    const stats = statsReply([1n], 1, true);
    expect(() => parseStrings(stats, true)).toThrow(ParseError);
    const strings = stringsReply(['a'], 1, true);
    strings.writeUInt32LE(2, 4);
    expect(() => parseStrings(strings, true)).toThrow(/string set 2/);
    const info = ssetInfoRequest(true);
    info.writeBigUInt64LE(6n, 8);
    expect(() => parseSsetInfo(info, true)).toThrow(/bits not asked for/);
  });

  it('throws nothing but ParseError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, le) => {
        for (const parse of [parseSsetInfo, parseStrings, parseStats]) {
          try {
            parse(Buffer.from(bytes), le);
          } catch (error) {
            expect(error).toBeInstanceOf(ParseError);
          }
        }
      }),
    );
  });
});

describe('selectDriverStatistics', () => {
  const reserved = new Set(['rx_packets', 'rx_dropped']);

  it('leaves out names the netdev source exports, repeats, empty names and values above 2^53; caps in driver order', () => {
    const names = ['rx_packets', 'rx0_cache_full', 'tx0_nop', 'rx0_cache_full', '', 'huge', 'rx_dropped', 'a', 'b'];
    const values = [1n, 2n, 3n, 4n, 5n, 1n << 60n, 7n, 8n, 9n];
    expect(selectDriverStatistics(names, values, reserved, 3)).toEqual({
      statistics: [
        { name: 'rx0_cache_full', value: 2 },
        { name: 'tx0_nop', value: 3 },
        { name: 'a', value: 8 },
      ],
      leftOut: { reserved: 2, duplicate: 2, inexact: 1, beyondCap: 1 },
    });
  });

  it('throws when names and values differ in number', () => {
    expect(() => selectDriverStatistics(['a'], [], reserved, 10)).toThrow(ParseError);
  });

  it('keeps unique, unreserved names in driver order, at most the cap, and accounts for every one left out', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom('rx_packets', 'rx_dropped', 'a', 'b', 'c', 'd', '', 'e'),
            fc.bigInt({ min: 0n, max: 1n << 54n }),
          ),
        ),
        fc.nat(6),
        (pairs, cap) => {
          const { statistics, leftOut } = selectDriverStatistics(
            pairs.map(([n]) => n),
            pairs.map(([, v]) => v),
            reserved,
            cap,
          );
          const kept = statistics.map((s) => s.name);
          expect(kept.length).toBeLessThanOrEqual(cap);
          expect(new Set(kept).size).toBe(kept.length);
          expect(kept.some((n) => reserved.has(n) || n === '')).toBe(false);
          const order: string[] = pairs.map(([n]) => n);
          expect(kept).toEqual([...kept].sort((x, y) => order.indexOf(x) - order.indexOf(y)));
          expect(kept.length + leftOut.reserved + leftOut.duplicate + leftOut.inexact + leftOut.beyondCap).toBe(
            pairs.length,
          );
        },
      ),
    );
  });
});
