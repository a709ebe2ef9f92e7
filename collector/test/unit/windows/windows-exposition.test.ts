/**
 * The Windows sources end to end on Linux, everything real except what cannot exist here: the sources are given an
 * IP Helper that returns buffers built from Microsoft's documented structs, and a tool runner through which
 * vfpctrl/powershell print the reconstructed outputs under test/fixtures/windows. The real gatherer, exposition and
 * HTTP server turn them into /metrics.
 */
import type { Source } from '../../../src/source';
import { createWindowsHyperVDropsSource } from '../../../src/sources/windows/hyperv-drop-reasons';
import { createWindowsInterfacesSource } from '../../../src/sources/windows/interfaces';
import { createWindowsIpStatisticsSource } from '../../../src/sources/windows/ip-statistics';
import { AF_INET, type IpHelper } from '../../../src/sources/windows/iphlpapi';
import { createWindowsTcpStateSource } from '../../../src/sources/windows/tcp-state';
import { createWindowsTcpStatisticsSource } from '../../../src/sources/windows/tcp-statistics';
import { createWindowsUdpSocketsSource } from '../../../src/sources/windows/udp-sockets';
import { createWindowsUdpStatisticsSource } from '../../../src/sources/windows/udp-statistics';
import { createWindowsVfpSource } from '../../../src/sources/windows/vfp-port-counters';
import { startCollector, type RunningCollector } from '../../helpers/collector-in-process';
import { fixture } from '../../helpers/fixtures';
import {
  mibIcmpEx,
  mibIfTable2,
  mibIpStatsLh,
  mibTcpStats2,
  mibUdpStats,
  mibUdpStats2,
  portField,
  tcp6TableOwnerPid,
  tcpTableOwnerPid,
  udp6TableOwnerPid,
  udpTableOwnerPid,
} from '../../helpers/windows-structs';

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

const ipStats = {
  forwarding: 2,
  defaultTTL: 128,
  inReceives: 700,
  inHdrErrors: 1,
  inAddrErrors: 2,
  forwDatagrams: 0,
  inUnknownProtos: 0,
  inDiscards: 3,
  inDelivers: 690,
  outRequests: 650,
  routingDiscards: 0,
  outDiscards: 0,
  outNoRoutes: 5,
  reasmTimeout: 60,
  reasmReqds: 0,
  reasmOks: 0,
  reasmFails: 0,
  fragOks: 0,
  fragFails: 0,
  fragCreates: 0,
  numIf: 4,
  numAddr: 6,
  numRoutes: 12,
};

/** iphlpapi.dll answering with buffers built from the documented structs. */
const ipHelper: IpHelper = {
  readTcpTable: async (family) =>
    family === AF_INET
      ? tcpTableOwnerPid([
          { state: 2, localPort: portField(443) },
          { state: 5, remoteAddress: [10, 240, 0, 4], remotePort: portField(6443) },
          { state: 5, localPort: portField(443), remoteAddress: [10, 244, 1, 9], remotePort: portField(50000) },
          { state: 12, remoteAddress: [10, 240, 0, 4], remotePort: portField(6443) },
        ])
      : tcp6TableOwnerPid([{ state: 5 }, { state: 11 }]),
  readTcpStatistics: async () => ({ layout: 'MIB_TCPSTATS2', bytes: mibTcpStats2(tcpStats) }),
  readUdpTable: async (family) => (family === AF_INET ? udpTableOwnerPid([{}, {}, {}]) : udp6TableOwnerPid([{}])),
  readIpStatistics: async (family) =>
    mibIpStatsLh(family === AF_INET ? ipStats : { ...ipStats, inReceives: 40, outNoRoutes: 0 }),
  readIcmpStatistics: async (family) =>
    family === AF_INET
      ? mibIcmpEx({ msgs: 7, errors: 1, types: { 3: 7 } }, { msgs: 2, errors: 0, types: { 0: 2 } })
      : mibIcmpEx({ msgs: 4, errors: 0, types: { 135: 4 } }, { msgs: 4, errors: 0, types: { 136: 4 } }),
  readUdpStatistics: async (family) =>
    family === AF_INET
      ? {
          layout: 'MIB_UDPSTATS2',
          bytes: mibUdpStats2({ inDatagrams: 300, noPorts: 11, inErrors: 0, outDatagrams: 280, numAddrs: 3 }),
        }
      : {
          layout: 'MIB_UDPSTATS',
          bytes: mibUdpStats({ inDatagrams: 30, noPorts: 2, inErrors: 1, outDatagrams: 28, numAddrs: 1 }),
        },
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
    createWindowsIpStatisticsSource(ipHelper),
    createWindowsUdpStatisticsSource(ipHelper),
    createWindowsUdpSocketsSource(ipHelper),
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
      'windows_ip_statistics',
      'windows_udp_statistics',
      'windows_udp_sockets',
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

  it('exports the remote peers keyed by service: inbound by the local listening port, outbound by the remote port', () => {
    expect(text).toContain('# TYPE kappie_tcp_connection_remote gauge');
    // ESTABLISHED and DELETE_TCB to the API server, and a pod reaching the node's listener on 443.
    expect(line('kappie_tcp_connection_remote{address="10.240.0.4",port="6443"}')).toMatch(/ 2$/);
    expect(line('kappie_tcp_connection_remote{address="10.244.1.9",port="443"}')).toMatch(/ 1$/);
    // The IPv6 rows talk to ::1 (the helper's default remote) on port 0 from port 80: no listener there, outbound.
    expect(line('kappie_tcp_connection_remote{address="::1",port="0"}')).toMatch(/ 2$/);
    expect(line('kappie_tcp_connection_remote{address="other",port="other"}')).toMatch(/ 0$/);
  });

  it('exports IP, ICMP and UDP counters under the Linux names, and the UDP sockets of both families', () => {
    expect(line('kappie_ip_connection_stats{statistic_name="InReceives"}')).toMatch(/ 700$/);
    expect(line('kappie_ip_connection_stats{statistic_name="Ip6InReceives"}')).toMatch(/ 40$/);
    expect(line('kappie_ip_connection_stats{statistic_name="OutNoRoutes"}')).toMatch(/ 5$/);
    expect(line('kappie_ip_connection_stats{statistic_name="IcmpInErrors"}')).toMatch(/ 1$/);
    expect(line('kappie_ip_connection_stats{statistic_name="Icmp6OutMsgs"}')).toMatch(/ 4$/);
    expect(line('kappie_udp_connection_stats{statistic_name="NoPorts"}')).toMatch(/ 11$/);
    expect(line('kappie_udp_connection_stats{statistic_name="Udp6InErrors"}')).toMatch(/ 1$/);
    expect(line('kappie_udp_active_sockets')).toMatch(/ 4$/);
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
