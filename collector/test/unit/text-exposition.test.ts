/**
 * The text exposition writer (text-exposition.ts): escaping, value spelling, label order and the left-out empty
 * family. Every expected text below is what prom-client 15.1.3 (lib/registry.js getMetricsAsString) wrote for the
 * same family with the node labels as its shared labels, checked against it before the collector stopped using it,
 * so scrapers and recorded goldens see the same bytes. The writer's output also parses back (prometheus-text.ts) to
 * the labels and values it was given.
 */
import { parsePrometheusText } from '../../src/prometheus-text';
import type { SampleView } from '../../src/source';
import {
  appendFamily,
  escapeHelp,
  escapeLabelValue,
  familyText,
  formatSampleValue,
  labelPairs,
} from '../../src/text-exposition';

const NODE_LABELS = { node_name: 'node-a', cluster: 'c"1' };

function write(
  name: string,
  help: string,
  type: string,
  samples: SampleView[],
  trailing: Readonly<Record<string, string>> = NODE_LABELS,
): string {
  // Written after a piece already there, into an array too short: appendFamily writes from the index it is given.
  const out: string[] = ['before'];
  // The catalog's label names are given for some labels only: the others take the path for unknown labels.
  const end = appendFamily(
    out,
    1,
    familyText(name, help, type, ['interface_name', 'reason'], labelPairs(trailing)),
    samples,
  );
  expect(end).toBe(out.length);
  return out.slice(1).join('');
}

describe('text exposition writer', () => {
  it('escapes backslash, double quote and line feed in label values, backslash and line feed in HELP', () => {
    const text = write('kappie_x', 'a \\ back\nslash "quoted"', 'gauge', [
      { labels: { interface_name: 'eth0', statistic_name: 'a\\b"c\nd' }, value: 1.5 },
    ]);
    expect(text).toBe(
      '# HELP kappie_x a \\\\ back\\nslash "quoted"\n' +
        '# TYPE kappie_x gauge\n' +
        'kappie_x{interface_name="eth0",statistic_name="a\\\\b\\"c\\nd",node_name="node-a",cluster="c\\"1"} 1.5\n',
    );
    expect(escapeLabelValue('\\"\n')).toBe('\\\\\\"\\n');
    expect(escapeLabelValue('plain value')).toBe('plain value');
    expect(escapeHelp('x\\y\nz"')).toBe('x\\\\y\\nz"');
  });

  it('spells NaN, the infinities, integers, floats and exponents as prom-client did', () => {
    const values = [NaN, Infinity, -Infinity, 18446744073709552000, 2 ** 53 - 1, -0, 5e-7, 0.1 + 0.2, 1e21, -2.5e-8];
    expect(values.map(formatSampleValue)).toEqual([
      'Nan',
      '+Inf',
      '-Inf',
      '18446744073709552000',
      '9007199254740991',
      '0',
      '5e-7',
      '0.30000000000000004',
      '1e+21',
      '-2.5e-8',
    ]);
    const text = write(
      'kappie_y',
      'h',
      'counter',
      values.map((value, i) => ({ labels: { reason: `r${i}` }, value })),
      { node_name: 'n', cluster: 'c' },
    );
    expect(text.split('\n').slice(2, 5)).toEqual([
      'kappie_y{reason="r0",node_name="n",cluster="c"} Nan',
      'kappie_y{reason="r1",node_name="n",cluster="c"} +Inf',
      'kappie_y{reason="r2",node_name="n",cluster="c"} -Inf',
    ]);
  });

  it("writes a series' own labels in its object's order, then the node labels; braces only around labels", () => {
    expect(
      write('kappie_z', 'h', 'gauge', [
        { labels: { direction: 'ingress', reason: 'x' }, value: 1 },
        { labels: { reason: 'y', direction: 'egress' }, value: 2 },
        { labels: {}, value: 3 },
      ]),
    ).toBe(
      '# HELP kappie_z h\n# TYPE kappie_z gauge\n' +
        'kappie_z{direction="ingress",reason="x",node_name="node-a",cluster="c\\"1"} 1\n' +
        'kappie_z{reason="y",direction="egress",node_name="node-a",cluster="c\\"1"} 2\n' +
        'kappie_z{node_name="node-a",cluster="c\\"1"} 3\n',
    );
    expect(
      write(
        'kappie_z',
        'h',
        'counter',
        [
          { labels: { a: '1' }, value: 3 },
          { labels: {}, value: 4 },
        ],
        {},
      ),
    ).toBe('# HELP kappie_z h\n# TYPE kappie_z counter\nkappie_z{a="1"} 3\nkappie_z 4\n');
  });

  it('leaves a family without series out', () => {
    expect(write('kappie_empty', 'h', 'gauge', [])).toBe('');
  });

  it('parses back to the labels and values it wrote', () => {
    const samples = [
      { labels: { statistic_name: 'a\\b"c\nd\\n' }, value: 1.5 },
      { labels: { statistic_name: 'nan' }, value: NaN },
      { labels: { statistic_name: 'inf' }, value: -Infinity },
    ];
    const [family] = parsePrometheusText(write('kappie_r', 'multi\nline \\ help', 'gauge', samples), 'test');
    expect(family).toEqual({
      name: 'kappie_r',
      type: 'gauge',
      help: 'multi\nline \\ help',
      samples: samples.map(({ labels, value }) => ({ labels: { ...labels, ...NODE_LABELS }, value })),
    });
  });
});
