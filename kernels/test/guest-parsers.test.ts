import { parseExposition } from '../src/guest/collector';
import { growth, parseCounterPairs } from '../src/guest/kernel-counters';

describe('guest suite parsers (what the suite checks the collector with)', () => {
  it('reads /proc/net/snmp pairs as Proto.Name counters', () => {
    const snmp = [
      'Udp: InDatagrams NoPorts InErrors',
      'Udp: 10 25 0',
      'TcpExt: ListenOverflows ListenDrops',
      'TcpExt: 3 3',
      '',
    ].join('\n');
    const counters = parseCounterPairs(snmp);
    expect(counters.get('Udp.NoPorts')).toBe(25);
    expect(counters.get('TcpExt.ListenDrops')).toBe(3);
    expect(growth(counters, new Map([['Udp.NoPorts', 30]]), ['Udp.NoPorts', 'Udp.InErrors'])).toEqual({
      'Udp.NoPorts': 5,
      'Udp.InErrors': 0,
    });
    expect(() => parseCounterPairs('Udp: A B\nTcp: 1 2\n')).toThrow(/do not pair/);
  });

  it('reads a text exposition with escaped label values', () => {
    const text = [
      '# HELP kappie_drop_count Dropped packets',
      '# TYPE kappie_drop_count counter',
      'kappie_drop_count{reason="NO_SOCKET",direction="ingress",node_name="vm"} 25',
      'kappie_source_up{source="drop_reasons",note="a \\"quoted\\" word"} 1',
      'kappie_build_info 1',
      '',
    ].join('\n');
    expect(parseExposition(text)).toEqual([
      { name: 'kappie_drop_count', labels: { reason: 'NO_SOCKET', direction: 'ingress', node_name: 'vm' }, value: 25 },
      { name: 'kappie_source_up', labels: { source: 'drop_reasons', note: 'a \\"quoted\\" word' }, value: 1 },
      { name: 'kappie_build_info', labels: {}, value: 1 },
    ]);
    expect(() => parseExposition('kappie_x{ 1\n')).toThrow(/not an exposition line/);
  });
});
