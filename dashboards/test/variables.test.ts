import { substituteVariables, type VariableValues } from '../src/variables';

const values: VariableValues = {
  cluster: '.*',
  os: 'linux',
  node: 'node-a|node-b',
  interface: 'eth0',
  reason: '.*',
  rateInterval: '1m',
  range: '1h',
};

describe('substituteVariables', () => {
  it('replaces $name and ${name}, longest built-in first', () => {
    expect(
      substituteVariables(
        'rate(m{cluster=~"$cluster",node_name=~"${node}"}[$__rate_interval]) + increase(m[$__range])',
        values,
      ),
    ).toBe('rate(m{cluster=~".*",node_name=~"node-a|node-b"}[1m]) + increase(m[1h])');
  });

  it('leaves regex back-references alone', () => {
    expect(substituteVariables('label_replace(m, "d", "$1", "s", "(rx|tx)_.*")', values)).toContain('"$1"');
  });

  it('refuses a variable the dashboards do not define', () => {
    expect(() => substituteVariables('m{pod=~"$pod"}', values)).toThrow('unknown dashboard variable $pod');
  });
});
