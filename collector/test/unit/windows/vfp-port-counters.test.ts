import fc from 'fast-check';
import { TCP_FLAGS } from '../../../src/catalog';
import { resolveConfig } from '../../../src/config';
import { ParseError } from '../../../src/errors';
import { createHostFs } from '../../../src/kernel/host-fs';
import { silentLogger } from '../../../src/log';
import { MonotonicSumBySeries } from '../../../src/monotonic-sum';
import {
  isExternalPort,
  LIST_PORTS_ARGS,
  parseVfpPortCounters,
  parseVfpPortList,
  portCounterArgs,
  VFP_OTHER_DROPS_REASON,
  createWindowsVfpSource,
  vfpSamples,
} from '../../../src/sources/windows/vfp-port-counters';
import type { SampleView } from '../../../src/source';
import { fixture } from '../../helpers/fixtures';

const portList = fixture('windows/vfpctrl-list-vmswitch-port.reconstructed.json');
const portCounters = fixture('windows/vfpctrl-get-port-counter.reconstructed.json');

function value(samples: readonly SampleView[] | undefined, labels: Record<string, string>): number | undefined {
  return samples?.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('parseVfpPortList', () => {
  it('reads the ports and tells the external port apart', () => {
    const ports = parseVfpPortList(portList);
    expect(ports.map((p) => p.friendlyName)).toEqual([
      'Container NIC 6c50381c',
      'Container NIC 0f1e2d3c',
      'ExternalPort',
    ]);
    expect(ports.filter((p) => !isExternalPort(p))).toHaveLength(2);
    expect(ports[0]!.name).toBe('B3A0C1D2-E3F4-4A5B-8C6D-7E8F9A0B1C2D');
  });

  it('reads one port printed as an object, no ports, and empty output', () => {
    expect(parseVfpPortList('{"Ports":{"Name":"X","Id":"Container NIC 1"}}')).toEqual([
      { name: 'X', friendlyName: 'Container NIC 1' },
    ]);
    expect(parseVfpPortList('{"Ports":[]}')).toEqual([]);
    expect(parseVfpPortList('{}')).toEqual([]);
    expect(parseVfpPortList('\uFEFF')).toEqual([]);
    expect(() => parseVfpPortList('{"Ports":[{"Id":"x"}]}')).toThrow(/Ports\[0\] has no Name/);
  });

  it('passes port names as arguments, never through a shell', () => {
    expect(LIST_PORTS_ARGS).toEqual(['/list-vmswitch-port', '/format', '1']);
    expect(portCounterArgs('B3A0C1D2-E3F4-4A5B-8C6D-7E8F9A0B1C2D & calc')).toEqual([
      '/port',
      'B3A0C1D2-E3F4-4A5B-8C6D-7E8F9A0B1C2D & calc',
      '/get-port-counter',
      '/format',
      '1',
    ]);
  });
});

describe('parseVfpPortCounters', () => {
  it('reads flags, drops and connection counters per direction (0 = egress, 1 = ingress)', () => {
    const [egress, ingress] = parseVfpPortCounters('\uFEFF' + portCounters);
    expect(egress).toEqual({
      direction: 'egress',
      flags: { SYN: 40, SYNACK: 38, FIN: 30, RST: 2 },
      // DroppedPackets 9 of which DroppedAcl 5: 4 without a specific reason.
      drops: { VfpAcl: 5, [VFP_OTHER_DROPS_REASON]: 4 },
      connections: {
        TcpConnectionsVerifiedOut: 37,
        TcpConnectionsTimedOutOut: 1,
        TcpConnectionsResetsOut: 2,
        TcpConnectionsResetHalfTTLOut: 0,
        TcpConnectionsResetBySynOut: 1,
        TcpConnectionsResetByInjectedResetOut: 0,
        TcpConnectionsClosedByFinOut: 30,
        TcpHalfOpenTimeoutsOut: 3,
      },
    });
    expect(ingress!.direction).toBe('ingress');
    expect(ingress!.flags.SYN).toBe(80);
    expect(ingress!.connections['TcpHalfOpenTimeoutsIn']).toBe(6);
    for (const flag of Object.keys(egress!.flags)) expect(TCP_FLAGS).toContain(flag);
  });

  it('reports only the counters present (no invented zero for a key vfpctrl did not print)', () => {
    const [only] = parseVfpPortCounters('{"InformationArray":{"PortCounters":{"Direction":1,"TcpFinPackets":3}}}');
    expect(only).toEqual({ direction: 'ingress', flags: { FIN: 3 }, drops: {}, connections: {} });
  });

  it('rejects unknown directions, bad values and cut-off JSON with a ParseError', () => {
    expect(() => parseVfpPortCounters('{"InformationArray":[{"PortCounters":[{"Direction":2}]}]}')).toThrow(
      /Direction: expected 0 or 1/,
    );
    expect(() =>
      parseVfpPortCounters('{"InformationArray":[{"PortCounters":[{"Direction":0,"DroppedAcl":"x"}]}]}'),
    ).toThrow(/DroppedAcl: expected a non-negative whole number/);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: portCounters.trimEnd().length - 1 }), (cut) => {
        expect(() => parseVfpPortCounters(portCounters.slice(0, cut) + ' ')).toThrow(ParseError);
      }),
    );
  });

  it('throws only ParseErrors on arbitrary JSON (fuzz)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ maxLength: 100 })), (input) => {
        try {
          parseVfpPortCounters(input);
          parseVfpPortList(input);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
  });
});

describe('vfpSamples', () => {
  const counters = parseVfpPortCounters(portCounters);
  const listed = new Set(['port-a', 'port-b']);

  it('sums over ports: the node value is every port, not the last port read (Retina reports the last)', () => {
    const samples = vfpSamples(
      new Map([
        ['port-a', counters],
        ['port-b', counters],
      ]),
      listed,
      new MonotonicSumBySeries(),
    );
    expect(value(samples.tcpFlagCounters, { flag: 'SYN', direction: 'egress' })).toBe(80);
    expect(value(samples.tcpFlagCounters, { flag: 'RST', direction: 'ingress' })).toBe(8);
    expect(value(samples.dropCount, { reason: 'VfpAcl', direction: 'egress' })).toBe(10);
    expect(value(samples.tcpConnectionStats, { statistic_name: 'TcpConnectionsResetBySynIn' })).toBe(4);
  });

  it('keeps a deleted pod port counts in the node totals, and forgets the port', () => {
    const sums = new MonotonicSumBySeries();
    vfpSamples(
      new Map([
        ['port-a', counters],
        ['port-b', counters],
      ]),
      listed,
      sums,
    );
    const after = vfpSamples(new Map([['port-a', counters]]), new Set(['port-a']), sums);
    expect(value(after.tcpFlagCounters, { flag: 'SYN', direction: 'egress' })).toBe(80);
    expect(sums.rememberedMembers).toBe(1);
  });
});

describe('createWindowsVfpSource', () => {
  const config = resolveConfig({}, {});
  const ctx = { config, fs: createHostFs(config), log: silentLogger() };
  /** vfpctrl printing the reconstructed outputs, with the queries of the ports in `failing` failing. */
  function fakeVfpctrl(failing: Set<string>) {
    return async (_file: string, args: readonly string[]) => {
      if (args[0] === LIST_PORTS_ARGS[0]) return portList;
      if (failing.has(args[1]!)) throw new Error(`vfpctrl: port ${args[1]} is busy`);
      return portCounters;
    };
  }

  it('adds a port whose query failed for many gatherings once, not twice, when it answers again', async () => {
    const failing = new Set<string>();
    const source = createWindowsVfpSource(fakeVfpctrl(failing));
    const syn = async () => value((await source.collect(ctx)).tcpFlagCounters, { flag: 'SYN', direction: 'egress' });
    expect(await syn()).toBe(80);
    failing.add('5F4E3D2C-1B0A-4988-A776-655443322110');
    // Still listed, so still remembered, however long (the old rule forgot a port after 10 gatherings).
    for (let i = 0; i < 25; i++) expect(await syn()).toBe(80);
    expect(source.note?.()).toMatch(/1 of 2 ports not read: .*busy/);
    failing.clear();
    expect(await syn()).toBe(80);
    expect(source.note?.()).toBeUndefined();
  });

  it('is down when every port query fails, with the first reason', async () => {
    const source = createWindowsVfpSource(
      fakeVfpctrl(new Set(['5F4E3D2C-1B0A-4988-A776-655443322110', 'B3A0C1D2-E3F4-4A5B-8C6D-7E8F9A0B1C2D'])),
    );
    await expect(source.collect(ctx)).rejects.toThrow(/busy/);
  });
});
