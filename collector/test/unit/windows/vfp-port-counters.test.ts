import fc from 'fast-check';
import { TCP_FLAGS } from '../../../src/catalog';
import { resolveConfig } from '../../../src/config';
import { ParseError } from '../../../src/errors';
import { createHostFs } from '../../../src/kernel/host-fs';
import { silentLogger } from '../../../src/log';
import { MonotonicSumBySeries } from '../../../src/monotonic-sum';
import {
  LIST_PORTS_ARGS,
  parseVfpPortCounters,
  parseVfpPortList,
  portCounterArgs,
  createWindowsVfpSource,
  vfpPortKind,
  vfpSamples,
} from '../../../src/sources/windows/vfp-port-counters';
import type { SampleView } from '../../../src/source';
import { fixture } from '../../helpers/fixtures';

const portList = fixture('windows/vfpctrl-list-vmswitch-port.reconstructed.txt');
const portCounters = fixture('windows/vfpctrl-get-port-counter.reconstructed.txt');
const POD_A = 'B3A0C1D2-E3F4-4A5B-8C6D-7E8F9A0B1C2D';
const POD_B = '5F4E3D2C-1B0A-4988-A776-655443322110';
const HOST_PORT = '4FD72AB0-2C35-4AE7-AC9A-F893495BD5EF';

function value(samples: readonly SampleView[] | undefined, labels: Record<string, string>): number | undefined {
  return samples?.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** vfpctrl text as it prints it: CRLF, an ITEM LIST header, blocks of `Key : value`, a closing status line. */
function vfpText(command: string, blocks: readonly (readonly string[])[]): string {
  const lines = ['', 'ITEM LIST', '===========', ''];
  for (const block of blocks) lines.push(...block, '');
  lines.push(`Command ${command} succeeded!`, '');
  return lines.join('\r\n');
}

function portBlock(name: string, friendlyName: string): string[] {
  return [
    `  Port name             : ${name}`,
    `  Port Friendly name    : ${friendlyName}`,
    '  Switch name           : 04F2CC76-AE71-4E04-9B0B-D3F27D8BC4E3',
    '  Switch Friendly name  : ext',
    '  PortId                : 1',
    '  VMQ Usage             : 0',
    '  SR-IOV Usage          : 0',
  ];
}

/** A /get-port-counter text with the given SYN counts per direction and every other expected key 0. */
function counterText(synOut: number, synIn: number): string {
  const direction = (heading: string, syn: number) => [
    `Direction - ${heading}`,
    `    SYN packets                            : ${syn}`,
    '    SYN-ACK packets                        : 0',
    '    FIN packets                            : 0',
    '    RST packets                            : 0',
    '    TCP Connections Verified               : 0',
    '    TCP Connections Timed Out              : 0',
    '    TCP Connections Reset                  : 0',
    '    TCP Connections Reset by SYN           : 0',
    '    TCP Connections Closed by FIN          : 0',
    '    TCP Half Open Timeouts                 : 0',
    '    TCP Connections Expired to Time Wait   : 0',
    '    Dropped ACL packets                    : 0',
  ];
  return vfpText('get-port-counter', [direction('OUT', synOut), direction('IN', synIn)]);
}

const config = resolveConfig({}, {});
const ctx = { config, fs: createHostFs(config), log: silentLogger() };

describe('parseVfpPortList (text form)', () => {
  it('reads every port block of the CRLF text and classifies the ports by what they are', () => {
    const ports = parseVfpPortList(portList);
    expect(ports.map((p) => [p.friendlyName, p.kind])).toEqual([
      ['ExternalPort', 'external'],
      ['Container NIC 6c50381c', 'host'],
      [POD_A, 'pod'],
      [POD_B, 'pod'],
    ]);
    expect(ports[1]!.name).toBe(HOST_PORT);
  });

  it('classifies the host vNIC, the external port, pod ports and anything else', () => {
    expect(vfpPortKind('Container NIC 8453379c')).toBe('host');
    expect(vfpPortKind('ExternalPort')).toBe('external');
    expect(vfpPortKind('B5F4E943-756D-4EE8-A70C-DF5AD7C74715')).toBe('pod');
    expect(vfpPortKind('Some VM adapter')).toBe('other');
  });

  it('reads LF-only text, a BOM, no ports, and rejects a failed command or a block without a Port name', () => {
    expect(parseVfpPortList(portList.replace(/\r\n/g, '\n'))).toHaveLength(4);
    expect(parseVfpPortList('\uFEFF' + vfpText('list-vmswitch-port', []))).toEqual([]);
    expect(() => parseVfpPortList('Command list-vmswitch-port failed!\r\n')).toThrow(ParseError);
    expect(() => parseVfpPortList(vfpText('list-vmswitch-port', [['  Port Friendly name : x']]))).toThrow(
      /has no Port name/,
    );
  });

  it('passes port names as arguments, never through a shell, and asks for the text form', () => {
    expect(LIST_PORTS_ARGS).toEqual(['/list-vmswitch-port']);
    expect(portCounterArgs(`${POD_A} & calc`)).toEqual(['/port', `${POD_A} & calc`, '/get-port-counter']);
  });
});

describe('parseVfpPortCounters (text form)', () => {
  it('reads flags, drops and connection counters per direction (OUT = egress, IN = ingress)', () => {
    const [egress, ingress] = parseVfpPortCounters(portCounters);
    expect(egress).toEqual({
      direction: 'egress',
      flags: { SYN: 40, SYNACK: 38, FIN: 30, RST: 2 },
      drops: { VfpAcl: 5 },
      connections: {
        TcpConnectionsVerifiedOut: 37,
        TcpConnectionsTimedOutOut: 1,
        TcpConnectionsResetsOut: 2,
        TcpConnectionsResetBySynOut: 1,
        TcpConnectionsClosedByFinOut: 30,
        TcpHalfOpenTimeoutsOut: 3,
        TcpConnectionsExpiredToTimeWaitOut: 28,
      },
      missing: [],
    });
    expect(ingress!.direction).toBe('ingress');
    expect(ingress!.flags.SYN).toBe(80);
    expect(ingress!.connections['TcpHalfOpenTimeoutsIn']).toBe(6);
    for (const flag of Object.keys(egress!.flags)) expect(TCP_FLAGS).toContain(flag);
  });

  it('takes only drop keys known to count packets as reasons (Dropped flows is not one)', () => {
    expect(portCounters).toContain('Dropped flows');
    for (const counters of parseVfpPortCounters(portCounters)) expect(Object.keys(counters.drops)).toEqual(['VfpAcl']);
  });

  it('names the expected keys vfpctrl did not print, and invents no zero for them', () => {
    const [only] = parseVfpPortCounters(vfpText('get-port-counter', [['Direction - IN', '  FIN packets : 3']]));
    expect(only!.flags).toEqual({ FIN: 3 });
    expect(only!.missing).toContain('synpackets');
    expect(only!.missing).not.toContain('finpackets');
  });

  it('rejects bad values and a failed command with a ParseError', () => {
    expect(() => parseVfpPortCounters('Direction - OUT\r\n  SYN packets : x\r\n')).toThrow(
      /SYN packets: expected a non-negative whole number/,
    );
    expect(() => parseVfpPortCounters('Command get-port-counter failed: port not found\r\n')).toThrow(ParseError);
  });

  it('throws only ParseErrors on arbitrary text (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (input) => {
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
  /** vfpctrl printing the reconstructed outputs, with the queries of the ports in `failing` failing. */
  function fakeVfpctrl(failing: Set<string>) {
    return async (_file: string, args: readonly string[]) => {
      if (args[0] === LIST_PORTS_ARGS[0]) return portList;
      if (failing.has(args[1]!)) throw new Error(`vfpctrl: port ${args[1]} is busy`);
      return portCounters;
    };
  }

  it('counts 10 SYN from the host to a pod once, as ingress on the pod port (not egress on the host vNIC)', async () => {
    const list = vfpText('list-vmswitch-port', [
      portBlock('E1D2C3B4-A5F6-4788-9900-AABBCCDDEEFF', 'ExternalPort'),
      portBlock(HOST_PORT, 'Container NIC 6c50381c'),
      portBlock(POD_A, POD_A),
    ]);
    const queried: string[] = [];
    const source = createWindowsVfpSource(async (_file, args) => {
      if (args[0] === '/list-vmswitch-port') return list;
      queried.push(args[1]!);
      // The host vNIC port sees the 10 SYN leave the host (OUT), the pod port sees them arrive (IN).
      return args[1] === HOST_PORT ? counterText(10, 0) : counterText(0, 10);
    });
    const samples = await source.collect(ctx);
    expect(value(samples.tcpFlagCounters, { flag: 'SYN', direction: 'ingress' })).toBe(10);
    expect(value(samples.tcpFlagCounters, { flag: 'SYN', direction: 'egress' })).toBe(0);
    expect(queried).toEqual([POD_A]);
    expect(source.note?.()).toBeUndefined();
  });

  it('names the missing keys in its note instead of dropping them silently', async () => {
    const source = createWindowsVfpSource(async (_file, args) =>
      args[0] === '/list-vmswitch-port'
        ? vfpText('list-vmswitch-port', [portBlock(POD_A, POD_A)])
        : vfpText('get-port-counter', [
            ['Direction - OUT', '  SYN packets : 1'],
            ['Direction - IN', '  SYN packets : 2'],
          ]),
    );
    await source.collect(ctx);
    expect(source.note?.()).toMatch(/vfpctrl printed no .*egress syn-ackpackets.*ingress droppedaclpackets/);
  });

  it('adds a port whose query failed for many gatherings once, not twice, when it answers again', async () => {
    const failing = new Set<string>();
    const source = createWindowsVfpSource(fakeVfpctrl(failing));
    const syn = async () => value((await source.collect(ctx)).tcpFlagCounters, { flag: 'SYN', direction: 'egress' });
    expect(await syn()).toBe(80);
    failing.add(POD_B);
    // Still listed, so still remembered, however long.
    for (let i = 0; i < 25; i++) expect(await syn()).toBe(80);
    expect(source.note?.()).toMatch(/1 of 2 ports not read: .*busy/);
    failing.clear();
    expect(await syn()).toBe(80);
    expect(source.note?.()).toBeUndefined();
  });

  it('is down when every port query fails, with the first reason', async () => {
    const source = createWindowsVfpSource(fakeVfpctrl(new Set([POD_A, POD_B])));
    await expect(source.collect(ctx)).rejects.toThrow(/busy/);
  });
});
