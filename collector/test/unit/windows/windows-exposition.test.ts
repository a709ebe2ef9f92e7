/**
 * The Windows sources end to end on Linux, everything real except what cannot exist here: the sources are given an
 * IP Helper that returns buffers built from Microsoft's documented structs, and a tool runner through which
 * vfpctrl/powershell print the reconstructed outputs under test/fixtures/windows. The real gatherer, exposition and
 * HTTP server turn them into /metrics.
 */
import type { Source } from '../../../src/source';
import { createWindowsHyperVDropsSource } from '../../../src/sources/windows/hyperv-drop-reasons';
import { createWindowsInterfacesSource } from '../../../src/sources/windows/interfaces';
import { AF_INET, type IpHelper } from '../../../src/sources/windows/iphlpapi';
import { createWindowsTcpStateSource } from '../../../src/sources/windows/tcp-state';
import { createWindowsTcpStatisticsSource } from '../../../src/sources/windows/tcp-statistics';
import { createWindowsVfpSource } from '../../../src/sources/windows/vfp-port-counters';
import { startCollector, type RunningCollector } from '../../helpers/collector-in-process';
import { fixture } from '../../helpers/fixtures';
import { mibIfTable2, mibTcpStats2, tcp6TableOwnerPid, tcpTableOwnerPid } from '../../helpers/windows-structs';

const toolRuns: { file: string; args: readonly string[] }[] = [];

const tcpStats = {
  activeOpens: 10,
  passiveOpens: 20,
  attemptFails: 1,
  estabResets: 2,
  currEstab: 3,
  inSegs: 2 ** 33,
  outSegs: 500,
  retransSegs: 7,
  inErrs: 0,
  outRsts: 4,
  numConns: 9,
};

/** iphlpapi.dll answering with buffers built from the documented structs. */
const ipHelper: IpHelper = {
  readTcpTable: async (family) =>
    family === AF_INET
      ? tcpTableOwnerPid([{ state: 2 }, { state: 5 }, { state: 5 }, { state: 12 }])
      : tcp6TableOwnerPid([{ state: 5 }, { state: 11 }]),
  readTcpStatistics: async () => ({ layout: 'MIB_TCPSTATS2', bytes: mibTcpStats2(tcpStats) }),
  readIfTable2: async () =>
    mibIfTable2([
      {
        index: 7,
        alias: 'Ethernet',
        hardware: true,
        inOctets: 9000,
        inUcastPkts: 90,
        outOctets: 8000,
        outUcastPkts: 80,
      },
      { index: 9, alias: 'Ethernet-WFP Native MAC Layer LightWeight Filter-0000', hardware: true, filter: true },
      { index: 20, alias: 'vEthernet (6c50381c-1d2e-4f00-9a1b-2c3d4e5f6a7b)', inOctets: 100, inDiscards: 1 },
      { index: 21, alias: 'vEthernet (0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9)', inOctets: 50, inDiscards: 2 },
    ]),
};

/** vfpctrl and powershell printing the reconstructed outputs. */
async function runTool(file: string, args: readonly string[]): Promise<string> {
  toolRuns.push({ file, args });
  if (file === 'powershell.exe') return fixture('windows/hyperv-drop-reasons.reconstructed.json');
  if (args[0] === '/list-vmswitch-port') return fixture('windows/vfpctrl-list-vmswitch-port.reconstructed.txt');
  if (args[0] === '/port') return fixture('windows/vfpctrl-get-port-counter.reconstructed.txt');
  throw new Error(`unexpected command ${file} ${args.join(' ')}`);
}

/** The Windows sources in gathering order, on the faked facilities. */
function windowsSources(): Source[] {
  return [
    createWindowsTcpStateSource(ipHelper),
    createWindowsTcpStatisticsSource(ipHelper),
    createWindowsInterfacesSource(ipHelper),
    createWindowsHyperVDropsSource(runTool),
    createWindowsVfpSource(runTool),
  ];
}

describe('Windows collector end to end (Windows APIs faked from documented formats)', () => {
  let collector: RunningCollector;
  let text: string;

  beforeAll(async () => {
    collector = await startCollector(windowsSources());
    text = await (await fetch(`${collector.url}/metrics`)).text();
  });
  afterAll(() => collector.close());

  const line = (series: string) =>
    text.split('\n').find((l) => l.startsWith(series.replace('}', ',node_name="test-node"}')));

  it('reports every Windows source up', () => {
    for (const name of [
      'windows_tcp_state',
      'windows_tcp_statistics',
      'windows_interfaces',
      'windows_hyperv_drops',
      'windows_vfp',
    ]) {
      expect(line(`kappie_source_up{source="${name}"}`)).toMatch(/ 1$/);
    }
  });

  it('exports TCP states over IPv4 and IPv6', () => {
    expect(line('kappie_tcp_state{state="ESTABLISHED"}')).toMatch(/ 3$/);
    expect(line('kappie_tcp_state{state="CLOSE"}')).toMatch(/ 1$/);
    expect(line('kappie_tcp_state{state="SYN_RECV"}')).toMatch(/ 0$/);
  });

  it('exports TCP statistics summed over the two families, and VFP connection counters', () => {
    expect(text).toContain('# TYPE kappie_tcp_connection_stats counter');
    expect(line('kappie_tcp_connection_stats{statistic_name="InSegs"}')).toMatch(/ 17179869184$/);
    expect(line('kappie_tcp_connection_stats{statistic_name="OutRsts"}')).toMatch(/ 8$/);
    // Two pod ports (the external port and the host vNIC are left out), 3 and 6 half-open timeouts each way per port.
    expect(line('kappie_tcp_connection_stats{statistic_name="TcpHalfOpenTimeoutsOut"}')).toMatch(/ 6$/);
    expect(line('kappie_tcp_connection_stats{statistic_name="TcpHalfOpenTimeoutsIn"}')).toMatch(/ 12$/);
  });

  it('exports TCP flags summed over the pod ports', () => {
    expect(line('kappie_tcp_flag_counters{flag="SYN",direction="egress"}')).toMatch(/ 80$/);
    expect(line('kappie_tcp_flag_counters{flag="RST",direction="ingress"}')).toMatch(/ 8$/);
  });

  it('exports drops by reason from the Hyper-V counters and the VFP ports, and no drop bytes', () => {
    expect(line('kappie_drop_count{reason="FailedSecurityPolicy",direction="ingress"}')).toMatch(/ 42$/);
    expect(line('kappie_drop_count{reason="VfpAcl",direction="egress"}')).toMatch(/ 10$/);
    expect(text).not.toMatch(/^kappie_drop_bytes\{/m);
  });

  it('exports interfaces with pod vNICs summed, and forward counts from the physical adapter', () => {
    expect(line('kappie_interface_stats{interface_name="pod_interfaces",statistic_name="rx_dropped"}')).toMatch(/ 3$/);
    expect(line('kappie_interface_stats{interface_name="Ethernet",statistic_name="rx_bytes"}')).toMatch(/ 9000$/);
    expect(text).not.toContain('LightWeight Filter');
    expect(line('kappie_forward_bytes{direction="egress"}')).toMatch(/ 8000$/);
    expect(line('kappie_forward_count{direction="ingress"}')).toMatch(/ 90$/);
  });

  it('queried vfpctrl for the pod ports only, with argument arrays', () => {
    const portQueries = toolRuns.filter((run) => run.args[0] === '/port').map((run) => run.args[1]);
    expect(portQueries.sort()).toEqual([
      '5F4E3D2C-1B0A-4988-A776-655443322110',
      'B3A0C1D2-E3F4-4A5B-8C6D-7E8F9A0B1C2D',
    ]);
  });
});
