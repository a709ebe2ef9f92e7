/**
 * The Prometheus text parser `kappie snapshot` reads a serving collector with: the committed golden exposition, the
 * format's escapes and special values, and errors that name the line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ParseError } from '../../src/errors';
import { parsePrometheusText } from '../../src/prometheus-text';
import { assertParsesOrRejects } from '../helpers/parser-fuzz';

const GOLDEN = path.join(__dirname, '..', 'golden', 'linux-procfs.all.metrics');

describe('parsePrometheusText', () => {
  it('reads every sample line of the golden exposition, with its family type and help', () => {
    const text = fs.readFileSync(GOLDEN, 'utf8');
    const families = parsePrometheusText(text, GOLDEN);
    const sampleLines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(families.reduce((sum, family) => sum + family.samples.length, 0)).toBe(sampleLines.length);
    const drops = families.find((family) => family.name === 'kappie_drop_count')!;
    expect(drops.type).toBe('counter');
    expect(drops.help).toMatch(/^Packets dropped by the node/);
    const line = sampleLines.find((l) => l.startsWith('kappie_drop_count{'))!;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    expect(drops.samples[0]!.value).toBe(value);
    expect(drops.samples[0]!.labels).toEqual(
      expect.objectContaining({ reason: expect.any(String), direction: expect.any(String) }),
    );
  });

  it('unescapes label values and help, and reads special values and timestamps', () => {
    const text = [
      '# HELP x_total A \\\\ help\\nwith two lines',
      '# TYPE x_total counter',
      'x_total{a="quote \\" backslash \\\\ newline \\n end",b="",} 1.5e3 1700000000000',
      'x_total{a="inf"} +Inf',
      'x_total{a="nan"} NaN',
      '# a comment',
      'y -2',
      '',
    ].join('\n');
    const [x, y] = parsePrometheusText(text, 'test');
    expect(x).toEqual({
      name: 'x_total',
      type: 'counter',
      help: 'A \\ help\nwith two lines',
      samples: [
        { labels: { a: 'quote " backslash \\ newline \n end', b: '' }, value: 1500 },
        { labels: { a: 'inf' }, value: Infinity },
        { labels: { a: 'nan' }, value: NaN },
      ],
    });
    expect(y).toEqual({ name: 'y', type: 'untyped', help: '', samples: [{ labels: {}, value: -2 }] });
  });

  it("reads NaN and the infinities in every spelling Go's ParseFloat accepts (prom-client wrote Nan)", () => {
    const spellings = ['Nan', 'nan', 'NAN', 'inf', '-inf', 'Infinity', '+INFINITY', '-Infinity'];
    const [family] = parsePrometheusText(spellings.map((value, i) => `v{i="${i}"} ${value}`).join('\n'), 'test');
    expect(family!.samples.map((sample) => sample.value)).toEqual([
      NaN,
      NaN,
      NaN,
      Infinity,
      -Infinity,
      Infinity,
      Infinity,
      -Infinity,
    ]);
    expect(() => parsePrometheusText('v +nan', 'test')).toThrow(/is not a value/);
    expect(() => parsePrometheusText('v infinit', 'test')).toThrow(/is not a value/);
  });

  it.each([
    ['x{a="1"', /unterminated|"," or "}"/],
    ['x{a=1} 2', /label a has no ="value"/],
    ['x{a="1",a="2"} 2', /label a is given twice/],
    ['x 12abc', /is not a value/],
    ['ok', /"ok" has no value/],
    ['x{a="\\q"} 1', /unknown escape/],
    ['{a="1"} 1', /a metric name was expected/],
  ])('refuses %j, naming the line', (line, why) => {
    expect(() => parsePrometheusText(`ok 1\n${line}\n`, 'http://node/metrics')).toThrow(ParseError);
    expect(() => parsePrometheusText(`ok 1\n${line}\n`, 'http://node/metrics')).toThrow(why);
    expect(() => parsePrometheusText(`ok 1\n${line}\n`, 'http://node/metrics')).toThrow(/^http:\/\/node\/metrics:2: /);
  });

  it('parses or rejects any text, and never makes up a value from a truncated exposition', () => {
    const recorded = fs.readFileSync(GOLDEN, 'utf8');
    const whole = new Map(
      parsePrometheusText(recorded, 'golden').map((family) => [family.name, family.samples.map((s) => s.value)]),
    );
    assertParsesOrRejects(
      recorded,
      (text) => parsePrometheusText(text, 'fuzz'),
      (families, isPrefix) => {
        if (!isPrefix) return;
        // A cut inside the last value gives a shorter number: every sample but the last must be the recorded one.
        const samples = families.flatMap((family) => family.samples.map((s, i) => [family.name, s.value, i] as const));
        for (const [name, value, i] of samples.slice(0, -1)) expect(whole.get(name)?.[i]).toBe(value);
      },
    );
  });
});
