/**
 * Packets the Hyper-V virtual switch dropped at each virtual network adapter, by reason and direction: the
 * "Hyper-V Virtual Network Adapter Drop Reasons" performance counter set (Incoming <Reason> / Outgoing <Reason>),
 * summed over adapters. Fills kappie_drop_count{reason,direction}; Windows counts no dropped bytes here.
 *
 * Read through the set's raw WMI class, not Get-Counter or typeperf: the class and property names are English on
 * every Windows locale (counter paths are localized), the values are the raw counts (typeperf prints cooked values),
 * and one query needs no second sample a second later.
 */
import { LABEL, DIRECTION, type Direction } from '../../catalog';
import { addReading, MonotonicSumBySeries } from '../../monotonic-sum';
import type { Sample, Source } from '../../source';
import { runTool, type ToolRunner } from './command';
import { asObjectList, counterValue, parseToolJson } from './json-output';

export const HYPERV_DROP_REASONS_CLASS =
  'Win32_PerfRawData_NvspNicDropReasonsStats_HyperVVirtualNetworkAdapterDropReasons';
const FILE = HYPERV_DROP_REASONS_CLASS;

/** The PowerShell command: one JSON document with the instance name and every Incoming... and Outgoing... property. */
export const HYPERV_DROP_REASONS_COMMAND: readonly [string, string[]] = [
  'powershell.exe',
  [
    '-NoProfile',
    '-NonInteractive',
    '-Command',
    `Get-CimInstance -ClassName ${HYPERV_DROP_REASONS_CLASS} -ErrorAction Stop | ` +
      'Select-Object -Property Name,Incoming*,Outgoing* | ConvertTo-Json -Compress',
  ],
];

export interface AdapterDrop {
  readonly adapter: string;
  /** The counter name without its direction word, as Windows spells it: Filtered, FailedSecurityPolicy, ... */
  readonly reason: string;
  readonly direction: Direction;
  readonly packets: number;
}

const COUNTER_PROPERTY = /^(Incoming|Outgoing)([A-Za-z0-9]+)$/;

/** Decodes ConvertTo-Json output of the class: one object per adapter (or one object, or nothing). */
export function parseHyperVDropReasons(text: string, file = FILE): AdapterDrop[] {
  const drops: AdapterDrop[] = [];
  asObjectList(parseToolJson(text, file), file, 'instances').forEach((instance, index) => {
    const adapter = typeof instance['Name'] === 'string' ? instance['Name'] : `#${index}`;
    // A _Total instance would count every adapter a second time.
    if (adapter === '_Total') return;
    for (const [property, value] of Object.entries(instance)) {
      const match = COUNTER_PROPERTY.exec(property);
      if (!match) continue;
      drops.push({
        adapter,
        reason: match[2]!,
        direction: match[1] === 'Incoming' ? DIRECTION.ingress : DIRECTION.egress,
        packets: counterValue(value, file, () => `${adapter} ${property}`),
      });
    }
  });
  return drops;
}

const SEPARATOR = '\u0000';

/**
 * Node totals per (reason, direction), kept monotonic while adapters come and go with pods: one MonotonicSumBySeries
 * whose members are the adapters, keyed by instance name. `drops` is one whole query: an adapter absent from it no
 * longer exists and is forgotten.
 */
export function dropSamples(drops: readonly AdapterDrop[], sums: MonotonicSumBySeries): Sample<'dropCount'>[] {
  const readings = new Map<string, Map<string, number>>();
  for (const drop of drops) {
    addReading(readings, drop.adapter, `${drop.reason}${SEPARATOR}${drop.direction}`, drop.packets);
  }
  return [...sums.update(readings, readings)].map(([key, value]) => {
    const [reason, direction] = key.split(SEPARATOR);
    return { labels: { [LABEL.reason]: reason!, [LABEL.direction]: direction! }, value };
  });
}

/** The windows_hyperv_drops source; `run` runs PowerShell (runTool by default). */
export function createWindowsHyperVDropsSource(run: ToolRunner = runTool): Source {
  let sums = new MonotonicSumBySeries();
  return {
    name: 'windows_hyperv_drops',
    description: 'Hyper-V Virtual Network Adapter Drop Reasons (raw WMI class): drops by reason, summed over adapters',
    platforms: ['windows'],
    metrics: ['dropCount'],
    async collect() {
      const [file, args] = HYPERV_DROP_REASONS_COMMAND;
      return { dropCount: dropSamples(parseHyperVDropReasons(await run(file, args)), sums) };
    },
    stop() {
      sums = new MonotonicSumBySeries();
      return Promise.resolve();
    },
  };
}
