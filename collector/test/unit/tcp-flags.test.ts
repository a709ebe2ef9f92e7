import fc from 'fast-check';
import { TCP_FLAGS, type TcpFlag } from '../../src/catalog';
import { ParseError, SourceUnavailableError } from '../../src/errors';
import { NftMissingObjectError, nftFailure } from '../../src/kernel/nft-command';
import { parseNftCounters, type NftCounter } from '../../src/sources/linux/nft-json';
import {
  chainRules,
  createTableScript,
  deleteTableScript,
  flagCounterName,
  NFT_DIRECTIONS,
  NFT_TABLE_FAMILY,
  NFT_TABLE_NAME,
  nftInterfaceName,
  UPLINK_COMPARE_LIMIT,
  UPLINK_SET_SIZE,
  updateUplinksScript,
} from '../../src/sources/linux/nft-ruleset';
import { FLAG_BYTE_VALUES, flagsOfByte } from '../../src/sources/linux/tcp-flag-bits';
import { flagSamples, sumFlagCounters } from '../../src/sources/linux/flag-counters';
import { countersByName } from '../../src/sources/linux/tcp-flags';
import { fixture } from '../helpers/fixtures';

const parseKappie = (text: string) => parseNftCounters(text, NFT_TABLE_FAMILY, NFT_TABLE_NAME);

describe('flagsOfByte', () => {
  it.each([
    [0x02, ['SYN']],
    [0x12, ['SYNACK']],
    [0x10, ['ACK']],
    [0x18, ['ACK', 'PSH']],
    [0x11, ['ACK', 'FIN']],
    [0x14, ['ACK', 'RST']],
    [0x04, ['RST']],
    [0xc2, ['SYN', 'ECE', 'CWR']],
    [0x52, ['SYNACK', 'ECE']],
    [0x30, ['ACK', 'URG']],
    [0x00, []],
    [0xff, ['SYNACK', 'FIN', 'RST', 'PSH', 'URG', 'ECE', 'CWR']],
  ] as [number, TcpFlag[]][])('flag byte %i counts as %j', (byte, flags) => {
    expect(flagsOfByte(byte)).toEqual(TCP_FLAGS.filter((flag) => flags.includes(flag)));
  });

  it('counts a segment as at most one of SYN, SYNACK and ACK, and as one exactly when SYN or ACK is set', () => {
    for (const byte of FLAG_BYTE_VALUES) {
      const handshake = flagsOfByte(byte).filter((flag) => ['SYN', 'SYNACK', 'ACK'].includes(flag));
      expect(handshake.length).toBe((byte & 0x12) !== 0 ? 1 : 0);
    }
  });

  it('rejects values that are not a flag byte', () => {
    expect(() => flagsOfByte(256)).toThrow(RangeError);
    expect(() => flagsOfByte(-1)).toThrow(RangeError);
  });
});

/** The rules of chain `direction` of the first table in `script` (the lines between its header and its end). */
function chainBody(script: string, direction: string): string[] {
  const lines = script.split('\n');
  const start = lines.indexOf(`  chain ${direction} {`);
  const end = lines.indexOf('  }', start);
  return lines.slice(start + 2, end).map((line) => line.trim());
}

/** `count` distinct uplink names. */
const uplinkNames = (count: number) => Array.from({ length: count }, (_, i) => `eth${i}`);

describe('the kappie nftables script', () => {
  const script = createTableScript({ inet: ['eth0', 'bond0'], bridge: [] });

  it('replaces a stale table in the same transaction and declares 2 x 256 counters, both maps and the uplink set', () => {
    const lines = script.split('\n');
    expect(lines.slice(0, 3)).toEqual(['table inet kappie {}', 'delete table inet kappie', 'table inet kappie {']);
    expect(lines.filter((line) => /^ {2}counter (ingress|egress)_0x[0-9a-f]{2} \{\}$/.test(line))).toHaveLength(512);
    for (const direction of NFT_DIRECTIONS) {
      const elements = new RegExp(`map ${direction}_by_flags \\{\\n.*\\n {4}elements = \\{ (.*) \\}`).exec(script)?.[1];
      expect(elements?.split(', ')).toHaveLength(256);
      expect(elements).toContain(`0x12 : "${flagCounterName(direction, 0x12)}"`);
    }
    expect(script).toContain('set uplinks { type ifname; size 1024; elements = { "eth0", "bond0" }; }');
    expect(script).toContain('type filter hook prerouting priority -300; policy accept;');
    expect(script).toContain('type filter hook postrouting priority 300; policy accept;');
    expect(script).not.toContain('bridge');
  });

  it('counts with one inline name compare per uplink, no separate protocol check and no set lookup', () => {
    expect(chainBody(script, 'ingress')).toEqual([
      'iifname "eth0" counter name tcp flags map @ingress_by_flags',
      'iifname "bond0" counter name tcp flags map @ingress_by_flags',
    ]);
    expect(chainBody(script, 'egress')).toEqual([
      'oifname "eth0" counter name tcp flags map @egress_by_flags',
      'oifname "bond0" counter name tcp flags map @egress_by_flags',
    ]);
    expect(script).not.toContain('l4proto');
    expect(script).not.toContain('@uplinks');
  });

  it(`compares names inline up to ${UPLINK_COMPARE_LIMIT} uplinks and looks them up in the set above`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * UPLINK_COMPARE_LIMIT }), (count) => {
        const names = uplinkNames(count);
        const rules = chainRules('egress', names);
        if (count <= UPLINK_COMPARE_LIMIT) {
          expect(rules).toEqual(names.map((name) => `oifname "${name}" counter name tcp flags map @egress_by_flags`));
        } else {
          expect(rules).toEqual(['oifname @uplinks counter name tcp flags map @egress_by_flags']);
        }
        expect(chainBody(createTableScript({ inet: names, bridge: [] }), 'egress')).toEqual(rules);
      }),
    );
    const many = createTableScript({ inet: uplinkNames(UPLINK_COMPARE_LIMIT + 1), bridge: [] });
    expect(chainBody(many, 'ingress')).toEqual(['iifname @uplinks counter name tcp flags map @ingress_by_flags']);
    expect(many).toContain(
      `set uplinks { type ifname; size 1024; elements = { "eth0", "eth1", "eth2", "eth3", "eth4" }; }`,
    );
  });

  it("declares every set's and map's size, so that the kernel backs each with its fixed-size hash", () => {
    // A set declared without a size gets the resizable rhashtable, slower per packet (nft-ruleset.ts' file comment).
    for (const table of [script, createTableScript({ inet: [], bridge: ['eth0'] }, 'kt', ['inet', 'bridge'])]) {
      const declarations = table.split('\n').filter((line) => /^ {2}(set|map) /.test(line));
      expect(declarations).toHaveLength(table.includes('table bridge') ? 6 : 3);
      for (const declaration of declarations) {
        const body = declaration.endsWith('{') ? table.split(declaration)[1]!.split('\n')[1]! : declaration;
        expect(body).toMatch(/; size (256|1024);/);
      }
    }
    expect(script).toMatch(/map ingress_by_flags \{\n {4}type tcp_flag : counter; size 256;\n/);
    expect(UPLINK_SET_SIZE).toBe(1024);
  });

  it(`refuses more uplinks than the uplink set holds (${UPLINK_SET_SIZE}), saying what to do`, () => {
    const tooMany = uplinkNames(UPLINK_SET_SIZE + 1);
    // The same words whether --uplink-interfaces is unset (the default routes) or matches too much (a glob).
    const refusal =
      /^1025 uplinks: the flag table counts on at most 1024; narrow them with --uplink-interfaces \(names or globs that match only the node's uplinks\)$/;
    expect(() => createTableScript({ inet: tooMany, bridge: [] })).toThrow(refusal);
    expect(() => updateUplinksScript('inet', tooMany)).toThrow(SourceUnavailableError);
    expect(updateUplinksScript('inet', uplinkNames(UPLINK_SET_SIZE))).toContain('"eth1023" }');
  });

  it('marks the table owned (flags owner) only when asked, right after it opens', () => {
    expect(script).not.toContain('flags owner');
    const owned = createTableScript({ inet: [], bridge: [] }, 'kappie', ['inet'], { owned: true }).split('\n');
    expect(owned.slice(2, 4)).toEqual(['table inet kappie {', '  flags owner;']);
  });

  it('counts on no interface while there is no uplink (an empty set, empty chains)', () => {
    const none = createTableScript({ inet: [], bridge: [] });
    expect(none).toContain('set uplinks { type ifname; size 1024; }');
    for (const direction of NFT_DIRECTIONS) expect(chainBody(none, direction)).toEqual([]);
  });

  it('puts bridge-port uplinks in a bridge table of the same name', () => {
    const both = createTableScript({ inet: [], bridge: ['eth0'] }, 'kt', ['inet', 'bridge']);
    expect(both).toContain('table bridge kt {}\ndelete table bridge kt\ntable bridge kt {');
    expect(both).toContain('set uplinks { type ifname; size 1024; elements = { "eth0" }; }');
    const bridgeTable = both.slice(both.indexOf('table bridge kt {\n'));
    expect(chainBody(bridgeTable, 'ingress')).toEqual(['iifname "eth0" counter name tcp flags map @ingress_by_flags']);
  });

  it("follows new uplinks by replacing the set elements and both chains' rules in one script, counters untouched", () => {
    expect(updateUplinksScript('bridge', ['eth0'], 'kt')).toBe(
      [
        'flush set bridge kt uplinks',
        'add element bridge kt uplinks { "eth0" }',
        'flush chain bridge kt ingress',
        'add rule bridge kt ingress iifname "eth0" counter name tcp flags map @ingress_by_flags',
        'flush chain bridge kt egress',
        'add rule bridge kt egress oifname "eth0" counter name tcp flags map @egress_by_flags',
        '',
      ].join('\n'),
    );
    expect(updateUplinksScript('inet', [], 'kt')).toBe(
      'flush set inet kt uplinks\nflush chain inet kt ingress\nflush chain inet kt egress\n',
    );
    const many = updateUplinksScript('inet', uplinkNames(UPLINK_COMPARE_LIMIT + 1), 'kt');
    expect(many).toContain('add rule inet kt egress oifname @uplinks counter name tcp flags map @egress_by_flags\n');
    expect(many).toContain('add element inet kt uplinks { "eth0", "eth1", "eth2", "eth3", "eth4" }\n');
    expect(updateUplinksScript('inet', ['eth0'])).not.toMatch(/delete|reset|counter (ingress|egress)_0x/);
  });

  it('refuses an uplink name nft cannot hold', () => {
    for (const name of ['a"b', 'a\\b', '', 'averyveryverylongname']) {
      expect(() => nftInterfaceName(name)).toThrow(SourceUnavailableError);
    }
    expect(nftInterfaceName('eth0')).toBe('"eth0"');
  });

  it("escapes a trailing * (nft's prefix wildcard) so that it matches that one name", () => {
    expect(nftInterfaceName('eth*')).toBe('"eth\\*"');
    expect(nftInterfaceName('a**')).toBe('"a*\\*"');
    expect(nftInterfaceName('a*b')).toBe('"a*b"');
  });

  it('deletes the tables whether or not they exist', () => {
    expect(deleteTableScript()).toBe('table inet kappie {}\ndelete table inet kappie\n');
    expect(deleteTableScript('kt', ['inet', 'bridge'])).toBe(
      'table inet kt {}\ndelete table inet kt\ntable bridge kt {}\ndelete table bridge kt\n',
    );
  });
});

describe('parseNftCounters and sumFlagCounters on recorded nft -j output', () => {
  it('reads the 512 counters of a table recorded with iperf3 and curl traffic', () => {
    const counters = parseKappie(fixture('linux/nft/list-counters-kappie.json'));
    expect(counters.size).toBe(512);
    expect(counters.get('ingress_0x12')).toEqual({ packets: 2, bytes: 120 });
    const totals = sumFlagCounters(counters);
    expect(totals.egress.SYN).toBe(5);
    expect(totals.ingress.SYNACK).toBe(2);
    expect(totals.ingress.RST).toBe(4);
    expect(totals.egress.ACK).toBeGreaterThan(1000);
    expect(flagSamples(totals)).toHaveLength(18);
  });

  it('ignores counters of other tables (a whole-ruleset listing) and non-counter objects', () => {
    const counters = parseKappie(fixture('linux/nft/list-counters-all-tables.json'));
    expect(counters.size).toBe(512);
    expect(parseNftCounters(fixture('linux/nft/list-counters-all-tables.json'), 'inet', 'other').size).toBe(1);
    expect(parseKappie(fixture('linux/nft/list-table-kappie.json')).size).toBe(512);
  });

  it('names a missing counter instead of counting it as zero', () => {
    const text = fixture('linux/nft/list-counters-kappie.json').replace('"ingress_0x10"', '"renamed"');
    expect(() => sumFlagCounters(parseKappie(text))).toThrow(/counter ingress_0x10 is missing/);
  });

  it('rejects every truncation of a recorded output', () => {
    const text = fixture('linux/nft/list-counters-kappie.json').trimEnd();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), (cut) => {
        expect(() => parseKappie(text.slice(0, cut))).toThrow(ParseError);
      }),
      { numRuns: 200 },
    );
  });
});

/** Renders counters the way nft -j does (the subset of fields the parser reads plus handle). */
function renderNftJson(counters: ReadonlyMap<string, NftCounter>): string {
  const objects = [...counters].map(([name, counter], index) => ({
    counter: { family: 'inet', name, table: 'kappie', handle: index + 3, ...counter },
  }));
  return JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6', json_schema_version: 1 } }, ...objects] });
}

describe('parseNftCounters fuzzing', () => {
  it('sums random per-byte counters into exactly what the flag definitions say', () => {
    const counterValues = fc.array(fc.nat({ max: 2 ** 40 }), { minLength: 512, maxLength: 512 });
    fc.assert(
      fc.property(counterValues, (values) => {
        const counters = new Map<string, NftCounter>();
        NFT_DIRECTIONS.forEach((direction, d) =>
          FLAG_BYTE_VALUES.forEach((byte) =>
            counters.set(flagCounterName(direction, byte), { packets: values[d * 256 + byte]!, bytes: byte }),
          ),
        );
        const totals = sumFlagCounters(parseKappie(renderNftJson(counters)));
        // Independent restatement of the definitions, bit by bit.
        const has = (byte: number, bit: number) => (byte & bit) !== 0;
        const rule: Record<TcpFlag, (byte: number) => boolean> = {
          SYN: (b) => has(b, 0x02) && !has(b, 0x10),
          SYNACK: (b) => has(b, 0x02) && has(b, 0x10),
          ACK: (b) => has(b, 0x10) && !has(b, 0x02),
          FIN: (b) => has(b, 0x01),
          RST: (b) => has(b, 0x04),
          PSH: (b) => has(b, 0x08),
          URG: (b) => has(b, 0x20),
          ECE: (b) => has(b, 0x40),
          CWR: (b) => has(b, 0x80),
        };
        NFT_DIRECTIONS.forEach((direction, d) => {
          for (const flag of TCP_FLAGS) {
            const expected = FLAG_BYTE_VALUES.filter(rule[flag]).reduce((sum, b) => sum + values[d * 256 + b]!, 0);
            expect(totals[direction][flag]).toBe(expected);
          }
        });
      }),
      { numRuns: 50 },
    );
  });

  it('never crashes or invents a counter on arbitrary JSON or text', () => {
    const anyJson = fc.oneof(
      fc.json(),
      fc
        .record({ nftables: fc.array(fc.record({ counter: fc.anything() }), { maxLength: 5 }) })
        .map((value) => JSON.stringify(value)),
      fc
        .record({
          nftables: fc.array(
            fc.record({
              counter: fc.record({
                family: fc.constantFrom('inet', 'ip'),
                table: fc.constantFrom('kappie', 'x'),
                name: fc.string({ maxLength: 12 }),
                packets: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
                bytes: fc.oneof(fc.nat(), fc.double()),
              }),
            }),
            { maxLength: 6 },
          ),
        })
        .map((value) => JSON.stringify(value)),
      fc.string({ maxLength: 100 }),
    );
    fc.assert(
      fc.property(anyJson, (text) => {
        try {
          for (const [name, counter] of parseKappie(text)) {
            expect(name).not.toBe('');
            expect(Number.isSafeInteger(counter.packets) && counter.packets >= 0).toBe(true);
            expect(Number.isSafeInteger(counter.bytes) && counter.bytes >= 0).toBe(true);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
  });
});

describe('nftFailure', () => {
  it('says which capability is missing, and tells a missing table apart', () => {
    const denied = nftFailure(['-f', '-'], 'code 1', 'Error: Could not process rule: Operation not permitted\n');
    expect(denied).toBeInstanceOf(SourceUnavailableError);
    expect(denied.message).toContain('CAP_NET_ADMIN');
    const missing = nftFailure(['list'], 'code 1', 'Error: No such file or directory\nlist counters table inet kappie');
    expect(missing).toBeInstanceOf(NftMissingObjectError);
    expect(nftFailure(['x'], 'code 1', 'Error: syntax error\n').message).toBe(
      'nft x failed (code 1): Error: syntax error',
    );
  });
});

describe('countersByName (the netlink dump of the table)', () => {
  const object = (name: string, packets: bigint, bytes = packets * 60n) => ({ table: 'kappie', name, packets, bytes });

  it('gives the counters by name as the sum expects them', () => {
    const objects = NFT_DIRECTIONS.flatMap((direction) =>
      FLAG_BYTE_VALUES.map((value) => object(flagCounterName(direction, value), BigInt(value))),
    );
    const totals = sumFlagCounters(countersByName(objects, 'kappie'));
    // Each counter holds its own flag byte as packets: SYNACK is the sum of every byte with SYN and ACK set.
    const synAckBytes = FLAG_BYTE_VALUES.filter((value) => (value & 0x12) === 0x12);
    expect(totals.egress.SYNACK).toBe(synAckBytes.reduce((sum, value) => sum + value, 0));
    expect(totals.ingress.SYNACK).toBe(totals.egress.SYNACK);
  });

  it('reads no counters as a missing table, and refuses duplicates and values it cannot hold exactly', () => {
    expect(() => countersByName([], 'kappie')).toThrow(NftMissingObjectError);
    expect(() => countersByName([object('a', 1n), object('a', 2n)], 'kappie')).toThrow(/counter a appears twice/);
    expect(() => countersByName([object('a', 2n ** 53n)], 'kappie')).toThrow(ParseError);
  });
});
