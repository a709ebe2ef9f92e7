import fc from 'fast-check';
import { POD_INTERFACES_AGGREGATE } from '../../../src/catalog';
import { resolveConfig } from '../../../src/config';
import { ParseError } from '../../../src/errors';
import {
  createWindowsInterfacesSource,
  decodeIfTable2,
  interfaceSamples,
  newInterfaceTotals,
  uplinkRows,
  type InterfaceSelection,
  isHostVnic,
} from '../../../src/sources/windows/interfaces';
import type { SampleView } from '../../../src/source';
import { createHostFs } from '../../../src/kernel/host-fs';
import { silentLogger } from '../../../src/log';
import { mibIfTable2, type IfRowSpec } from '../../helpers/windows-structs';

const physical: IfRowSpec = {
  index: 7,
  alias: 'Ethernet',
  description: 'Microsoft Hyper-V Network Adapter',
  hardware: true,
  inOctets: 2n ** 40n,
  inUcastPkts: 1000,
  inNUcastPkts: 20,
  inDiscards: 3,
  inErrors: 1,
  outOctets: 5000,
  outUcastPkts: 900,
  outNUcastPkts: 10,
  outDiscards: 2,
};
const physicalFilter: IfRowSpec = {
  ...physical,
  index: 8,
  alias: 'Ethernet-WFP Native MAC Layer LightWeight Filter-0000',
  filter: true,
};
const hostVnic: IfRowSpec = { index: 12, alias: 'vEthernet (Ethernet)', inOctets: 700, inUcastPkts: 7, outOctets: 800 };
const pod1: IfRowSpec = {
  index: 20,
  alias: 'vEthernet (6c50381c-1d2e-4f00-9a1b-2c3d4e5f6a7b)',
  inOctets: 100,
  inUcastPkts: 1,
};
const pod2: IfRowSpec = {
  index: 21,
  alias: 'vEthernet (0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9)',
  inOctets: 50,
  inUcastPkts: 2,
};
const loopback: IfRowSpec = { index: 1, alias: 'Loopback Pseudo-Interface 1', type: 24, hardware: false };
const absent: IfRowSpec = { index: 30, alias: 'Local Area Connection* 9', operStatus: 6 };

const defaults: InterfaceSelection = resolveConfig({}, {});

function value(samples: readonly SampleView[], labels: Record<string, string>): number | undefined {
  return samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('decodeIfTable2', () => {
  it('reads MIB_IF_ROW2 rows: alias, flags, status and 64-bit counters', () => {
    const rows = decodeIfTable2(mibIfTable2([physical, physicalFilter, { ...hostVnic, alias: 'vEthernet (Réseau)' }]));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({
      luid: '0006000007000000',
      index: 7,
      alias: 'Ethernet',
      description: 'Microsoft Hyper-V Network Adapter',
      type: 6,
      hardware: true,
      filter: false,
      operStatus: 1,
      counters: {
        InOctets: 2 ** 40,
        InUcastPkts: 1000,
        InNUcastPkts: 20,
        InDiscards: 3,
        InErrors: 1,
        InUnknownProtos: 0,
        OutOctets: 5000,
        OutUcastPkts: 900,
        OutNUcastPkts: 10,
        OutDiscards: 2,
        OutErrors: 0,
      },
    });
    expect(rows[1]!.filter).toBe(true);
    expect(rows[2]!.alias).toBe('vEthernet (Réseau)');
  });

  it('reads an empty table', () => {
    expect(decodeIfTable2(mibIfTable2([]))).toEqual([]);
  });

  it('rejects truncated tables with a ParseError (fuzz over the cut)', () => {
    const bytes = mibIfTable2([physical, hostVnic]);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), (cut) => {
        expect(() => decodeIfTable2(bytes.subarray(0, cut))).toThrow(ParseError);
      }),
    );
  });

  it('never crashes on arbitrary bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        try {
          expect(decodeIfTable2(bytes).length).toBeLessThanOrEqual(1);
        } catch (error) {
          expect(error).toBeInstanceOf(ParseError);
        }
      }),
    );
  });
});

describe('interfaceSamples', () => {
  const rows = decodeIfTable2(mibIfTable2([loopback, physical, physicalFilter, hostVnic, pod1, pod2, absent]));

  it('reports interfaces with Linux statistic names, leaving out filter views and absent adapters', () => {
    const { interfaceStats } = interfaceSamples(rows, defaults, newInterfaceTotals());
    const names = new Set(interfaceStats.map((s) => s.labels['interface_name']));
    expect([...names].sort()).toEqual([
      'Ethernet',
      'Loopback Pseudo-Interface 1',
      POD_INTERFACES_AGGREGATE,
      'vEthernet (Ethernet)',
    ]);
    expect(value(interfaceStats, { interface_name: 'Ethernet', statistic_name: 'rx_packets' })).toBe(1020);
    expect(value(interfaceStats, { interface_name: 'Ethernet', statistic_name: 'rx_bytes' })).toBe(2 ** 40);
    expect(value(interfaceStats, { interface_name: 'Ethernet', statistic_name: 'tx_dropped' })).toBe(2);
    expect(value(interfaceStats, { interface_name: 'Ethernet', statistic_name: 'rx_errors' })).toBe(1);
  });

  it('sums container vNICs into pod_interfaces, and keeps the sum when a pod goes away', () => {
    const sums = newInterfaceTotals();
    const first = interfaceSamples(rows, defaults, sums).interfaceStats;
    expect(value(first, { interface_name: POD_INTERFACES_AGGREGATE, statistic_name: 'rx_bytes' })).toBe(150);
    const withoutPod2 = decodeIfTable2(mibIfTable2([physical, { ...pod1, inOctets: 130 }]));
    const second = interfaceSamples(withoutPod2, defaults, sums).interfaceStats;
    expect(value(second, { interface_name: POD_INTERFACES_AGGREGATE, statistic_name: 'rx_bytes' })).toBe(180);
  });

  it('reports each vNIC on its own with --per-pod-interface-stats', () => {
    const perPod = { ...defaults, perPodInterfaceStats: true };
    const { interfaceStats } = interfaceSamples(rows, perPod, newInterfaceTotals());
    expect(value(interfaceStats, { interface_name: pod1.alias, statistic_name: 'rx_bytes' })).toBe(100);
    expect(interfaceStats.some((s) => s.labels['interface_name'] === POD_INTERFACES_AGGREGATE)).toBe(false);
  });

  it('takes forward counts from the physical adapter that is up by default', () => {
    expect(uplinkRows(rows, []).map((r) => r.alias)).toEqual(['Ethernet']);
    const { forwardCount, forwardBytes } = interfaceSamples(rows, defaults, newInterfaceTotals());
    expect(value(forwardCount, { direction: 'ingress' })).toBe(1020);
    expect(value(forwardCount, { direction: 'egress' })).toBe(910);
    expect(value(forwardBytes, { direction: 'ingress' })).toBe(2 ** 40);
    expect(value(forwardBytes, { direction: 'egress' })).toBe(5000);
  });

  it('takes forward counts from --uplink-interfaces when set (Windows names with spaces and parentheses)', () => {
    const config = resolveConfig({ uplinkInterfaces: 'vEthernet (Ethernet)' }, {});
    const { forwardBytes } = interfaceSamples(rows, config, newInterfaceTotals());
    expect(value(forwardBytes, { direction: 'egress' })).toBe(800);
  });

  it('reports no forward series, rather than zeros, when no uplink is found', () => {
    const config = resolveConfig({ uplinkInterfaces: 'nothing*' }, {});
    expect(interfaceSamples(rows, config, newInterfaceTotals()).forwardCount).toEqual([]);
  });

  it('honours --interface-include and --interface-exclude', () => {
    const config = resolveConfig({ interfaceExclude: 'Loopback*,vEthernet (Ethernet)' }, {});
    const names = new Set(
      interfaceSamples(rows, config, newInterfaceTotals()).interfaceStats.map((s) => s.labels['interface_name']),
    );
    expect([...names].sort()).toEqual(['Ethernet', POD_INTERFACES_AGGREGATE]);
  });

  it('keeps the forward totals counters while an uplink goes down and comes back', () => {
    const totals = newInterfaceTotals();
    const adapters = (a: number, b: number, bStatus: number) =>
      decodeIfTable2(
        mibIfTable2([
          { index: 7, alias: 'Ethernet', hardware: true, inUcastPkts: a },
          { index: 8, alias: 'Ethernet 2', hardware: true, inUcastPkts: b, operStatus: bStatus },
        ]),
      );
    const ingress = (rows: ReturnType<typeof decodeIfTable2>) =>
      value(interfaceSamples(rows, defaults, totals).forwardCount, { direction: 'ingress' });
    const IF_OPER_STATUS_DOWN = 2;
    // A at 1000 and B at 500; B down while A reaches 1010; B back at 501 while A reaches 1020. A plain sum over the
    // uplinks that are up gave 1500, 1010, 1521.
    expect(ingress(adapters(1000, 500, 1))).toBe(1500);
    expect(ingress(adapters(1010, 500, IF_OPER_STATUS_DOWN))).toBe(1510);
    expect(ingress(adapters(1020, 501, 1))).toBe(1521);
  });

  it('keys adapters by NET_LUID: a new interface index or a renamed alias adds growth, a new LUID counts whole', () => {
    const totals = newInterfaceTotals();
    const pod = (spec: Partial<IfRowSpec>) =>
      value(interfaceSamples(decodeIfTable2(mibIfTable2([{ ...pod1, ...spec }])), defaults, totals).interfaceStats, {
        interface_name: POD_INTERFACES_AGGREGATE,
        statistic_name: 'rx_bytes',
      });
    expect(pod({ luid: 0x0006000014000000n, inOctets: 100 })).toBe(100);
    // Disabled and re-enabled: NDIS may give it another index; a container vNIC renamed: another alias.
    expect(pod({ luid: 0x0006000014000000n, index: 40, inOctets: 120 })).toBe(120);
    expect(
      pod({ luid: 0x0006000014000000n, alias: 'vEthernet (0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9)', inOctets: 125 }),
    ).toBe(125);
    // Another adapter (another LUID): its whole value is new.
    expect(pod({ luid: 0x0006000015000000n, inOctets: 30 })).toBe(155);
  });
});

describe('host vNIC versus pod vNICs', () => {
  // The host's vNIC on the pod network received 200 packets (its traffic with the pods); the two pods 1 and 2.
  const hostPodVnic: IfRowSpec = { index: 25, alias: 'vEthernet (Container NIC 6c50381c)', inUcastPkts: 200 };
  const rows = decodeIfTable2(mibIfTable2([hostPodVnic, pod1, pod2]));
  const rxPackets = (selection: InterfaceSelection, name: string) =>
    value(interfaceSamples(rows, selection, newInterfaceTotals()).interfaceStats, {
      interface_name: name,
      statistic_name: 'rx_packets',
    });

  it('sums only the pod vNICs into pod_interfaces (3, not 203) and reports the host vNIC under its own name', () => {
    expect(rxPackets(defaults, POD_INTERFACES_AGGREGATE)).toBe(3);
    expect(rxPackets(defaults, 'vEthernet (Container NIC 6c50381c)')).toBe(200);
  });

  it('never takes the host vNIC for a pod, even when --pod-interfaces matches its name', () => {
    const selection = { ...defaults, podInterfaces: [...defaults.podInterfaces, 'vEthernet (Container NIC *)'] };
    expect(rxPackets(selection, POD_INTERFACES_AGGREGATE)).toBe(3);
    expect(isHostVnic('Container NIC 8453379c')).toBe(true);
    expect(isHostVnic('vEthernet (6c50381c-1d2e-4f00-9a1b-2c3d4e5f6a7b)')).toBe(false);
  });
});

describe('createWindowsInterfacesSource', () => {
  it('reads GetIfTable2 through the IP Helper it is given, and says when no uplink is found', async () => {
    let table = mibIfTable2([physical, pod1]);
    const source = createWindowsInterfacesSource({ readIfTable2: async () => table });
    const config = resolveConfig({}, {});
    const ctx = { config, fs: createHostFs(config), log: silentLogger() };
    expect(value((await source.collect(ctx)).forwardCount!, { direction: 'egress' })).toBe(910);
    expect(source.note?.()).toBeUndefined();
    table = mibIfTable2([pod1]);
    expect((await source.collect(ctx)).forwardCount).toEqual([]);
    expect(source.note?.()).toMatch(/no uplink adapter found/);
  });
});
