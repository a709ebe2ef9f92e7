import fc from 'fast-check';
import { ParseError } from '../../../src/errors';
import { MonotonicSums } from '../../../src/sources/windows/counter-sums';
import {
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
    const samples = dropSamples(parseHyperVDropReasons(text), new MonotonicSums('restart'));
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
