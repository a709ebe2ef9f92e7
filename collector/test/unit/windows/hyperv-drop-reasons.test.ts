import fc from 'fast-check';
import { resolveConfig } from '../../../src/config';
import { ParseError } from '../../../src/errors';
import { createHostFs } from '../../../src/kernel/host-fs';
import { silentLogger } from '../../../src/log';
import { MonotonicSumBySeries } from '../../../src/monotonic-sum';
import {
  createWindowsHyperVDropsSource,
  dropSamples,
  HYPERV_DROP_REASONS_COMMAND,
  parseHyperVDropReasons,
} from '../../../src/sources/windows/hyperv-drop-reasons';
import type { SampleView } from '../../../src/source';
import { fixture } from '../../helpers/fixtures';

const text = fixture('windows/hyperv-drop-reasons.reconstructed.json');

function value(samples: readonly SampleView[], reason: string, direction: string): number | undefined {
  return samples.find((s) => s.labels['reason'] === reason && s.labels['direction'] === direction)?.value;
}

describe('parseHyperVDropReasons', () => {
  it('reads every Incoming/Outgoing reason of every adapter', () => {
    const drops = parseHyperVDropReasons(text);
    expect(drops).toHaveLength(2 * 39 * 2);
    expect(drops).toContainEqual({
      adapter: expect.stringContaining('6c50381c'),
      reason: 'FailedSecurityPolicy',
      direction: 'ingress',
      packets: 12,
    });
    expect(drops).toContainEqual(expect.objectContaining({ reason: 'Filtered', direction: 'egress', packets: 3 }));
  });

  it('sums each reason over adapters (not the last adapter read)', () => {
    const samples = dropSamples(parseHyperVDropReasons(text), new MonotonicSumBySeries());
    expect(value(samples, 'FailedSecurityPolicy', 'ingress')).toBe(12 + 30);
    expect(value(samples, 'NicDisabled', 'egress')).toBe(2);
    expect(value(samples, 'Wnv', 'ingress')).toBe(0);
    expect(samples).toHaveLength(39 * 2);
  });

  it('reads PowerShell output as it comes: BOM, CRLF, pretty-printed, one object, or nothing', () => {
    const instances = JSON.parse(text) as object[];
    const pretty = '\uFEFF' + JSON.stringify(instances, null, 4).replace(/\n/g, '\r\n') + '\r\n';
    expect(parseHyperVDropReasons(pretty)).toEqual(parseHyperVDropReasons(text));
    // One adapter: ConvertTo-Json prints the object itself, not a list of one.
    expect(parseHyperVDropReasons(JSON.stringify(instances[0]))).toHaveLength(39 * 2);
    // No adapter: PowerShell prints nothing at all.
    expect(parseHyperVDropReasons('')).toEqual([]);
    expect(parseHyperVDropReasons('\uFEFF\r\n')).toEqual([]);
  });

  it('skips a _Total instance, which would count every adapter twice', () => {
    const drops = parseHyperVDropReasons(
      JSON.stringify([
        { Name: '_Total', IncomingFiltered: 9 },
        { Name: 'a', IncomingFiltered: 1 },
      ]),
    );
    expect(drops).toEqual([{ adapter: 'a', reason: 'Filtered', direction: 'ingress', packets: 1 }]);
  });

  it('accepts UInt64 values printed as strings, rejects anything that is not a count', () => {
    expect(parseHyperVDropReasons('{"Name":"a","OutgoingQos":"18446744073"}')[0]!.packets).toBe(18446744073);
    expect(() => parseHyperVDropReasons('{"Name":"a","OutgoingQos":-1}')).toThrow(
      /OutgoingQos: expected a non-negative/,
    );
    expect(() => parseHyperVDropReasons('{"Name":"a","OutgoingQos":1.5}')).toThrow(ParseError);
    expect(() => parseHyperVDropReasons('[1]')).toThrow(/instances\[0\] is not an object/);
    expect(() => parseHyperVDropReasons(text.slice(0, text.length / 2))).toThrow(/not JSON/);
  });

  it('runs PowerShell without a profile, with the class name in an argument (no shell string)', () => {
    const [file, args] = HYPERV_DROP_REASONS_COMMAND;
    expect(file).toBe('powershell.exe');
    expect(args.slice(0, 3)).toEqual(['-NoProfile', '-NonInteractive', '-Command']);
    expect(args[3]).toContain('Win32_PerfRawData_NvspNicDropReasonsStats_HyperVVirtualNetworkAdapterDropReasons');
  });

  it('throws only ParseErrors on arbitrary or truncated input (fuzz)', () => {
    const check = (input: string) => {
      try {
        for (const drop of parseHyperVDropReasons(input)) expect(Number.isInteger(drop.packets)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(ParseError);
      }
    };
    fc.assert(fc.property(fc.string({ maxLength: 200 }), check));
    fc.assert(fc.property(fc.json(), check));
    fc.assert(fc.property(fc.nat(text.length - 1), (cut) => check(text.slice(0, cut))));
  });
});

describe('createWindowsHyperVDropsSource', () => {
  it('keeps a removed adapter counts in the totals, forgets it, and counts a returning name as a new adapter', async () => {
    let output = JSON.stringify([
      { Name: 'a', IncomingFiltered: 5 },
      { Name: 'b', IncomingFiltered: 7 },
    ]);
    const source = createWindowsHyperVDropsSource(async (file, args) => {
      expect([file, args]).toEqual(HYPERV_DROP_REASONS_COMMAND);
      return output;
    });
    const config = resolveConfig({}, {});
    const ctx = { config, fs: createHostFs(config), log: silentLogger() };
    const filtered = async () => value((await source.collect(ctx)).dropCount!, 'Filtered', 'ingress');
    expect(await filtered()).toBe(12);
    output = JSON.stringify([{ Name: 'a', IncomingFiltered: 6 }]);
    expect(await filtered()).toBe(13);
    // The instance left the counter set: a vNIC of that name now is another adapter, counted from its creation.
    output = JSON.stringify([
      { Name: 'a', IncomingFiltered: 6 },
      { Name: 'b', IncomingFiltered: 1 },
    ]);
    expect(await filtered()).toBe(14);
  });
});
