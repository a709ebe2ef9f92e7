/**
 * The screenshot harness turns Prometheus HTTP API answers into the frames Grafana's Prometheus data source gives
 * panels (screenshots/prometheus-frames.ts): legends, sample values, tables, $__rate_interval and the regex
 * formatting of variables, each checked against what Grafana documents or does.
 */
import { FieldType } from '@grafana/data';
import {
  escapeRegexValue,
  formatRegexVariable,
  rateInterval,
  sampleValue,
  seriesName,
  tableFrame,
  timeSeriesFrames,
} from '../screenshots/prometheus-frames';

describe('screenshot harness frames', () => {
  it('names a series by its legend, or in PromQL notation without one', () => {
    expect(seriesName('{{node_name}} {{direction}}', { node_name: 'n1', direction: 'ingress' })).toBe('n1 ingress');
    expect(seriesName('{{ missing }}x', {})).toBe('x');
    expect(seriesName('', { __name__: 'up', job: 'kappie', instance: 'a' })).toBe('up{instance="a", job="kappie"}');
    expect(seriesName(undefined, {})).toBe('Value');
  });

  it('reads Prometheus sample texts, NaN and infinities included', () => {
    expect([sampleValue('1.5'), sampleValue('+Inf'), sampleValue('-Inf')]).toEqual([1.5, Infinity, -Infinity]);
    expect(sampleValue('NaN')).toBeNaN();
  });

  it('makes one time series frame per series, in milliseconds, with labels and the legend as display name', () => {
    const frames = timeSeriesFrames(
      [
        {
          metric: { __name__: 'x', node_name: 'a' },
          values: [
            [10, '1'],
            [15, '2'],
          ],
        },
        { metric: { node_name: 'b' }, values: [[10, '3']] },
      ],
      '{{node_name}}',
      'A',
    );
    expect(frames).toHaveLength(2);
    const [time, value] = frames[0]!.fields;
    expect(time).toMatchObject({ name: 'Time', type: FieldType.time, values: [10_000, 15_000] });
    expect(value).toMatchObject({ type: FieldType.number, values: [1, 2], labels: { node_name: 'a' } });
    expect(value?.config.displayNameFromDS).toBe('a');
    expect(frames[1]!.refId).toBe('A');
  });

  it('makes a table of an instant answer: Time, the labels sorted, Value', () => {
    const frame = tableFrame(
      [
        { metric: { source: 'drops', node_name: 'a' }, value: [20, '1'] },
        { metric: { node_name: 'b' }, value: [20, '0'] },
      ],
      'A',
    );
    expect(frame.fields.map((field) => field.name)).toEqual(['Time', 'node_name', 'source', 'Value']);
    expect(frame.fields[2]!.values).toEqual(['drops', '']);
    expect(frame.fields[3]!.values).toEqual([1, 0]);
  });

  it('computes $__rate_interval as Grafana documents it: max(interval + scrape, 4 × scrape)', () => {
    expect(rateInterval(1000, 15)).toBe('60s');
    expect(rateInterval(120_000, 15)).toBe('135s');
    expect(rateInterval(2500, 5)).toBe('20s');
  });

  it('formats variables for regex matchers as Grafana does for Prometheus', () => {
    expect(escapeRegexValue('node.a')).toBe('node\\\\.a');
    expect(formatRegexVariable(['a', 'b.c'])).toBe('(a|b\\\\.c)');
    expect(formatRegexVariable(['only'])).toBe('only');
    expect(formatRegexVariable('x')).toBe('x');
  });
});
