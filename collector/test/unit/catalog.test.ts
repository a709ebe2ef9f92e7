import {
  LABEL,
  METRICS,
  METRIC_KEYS,
  NETWORK_METRIC_KEYS,
  metricName,
  RETINA_METRIC_PREFIX,
  type MetricDefinition,
} from '../../src/catalog';

describe('catalog', () => {
  it('holds the 12 data-plane metrics of the AKS catalog with their types', () => {
    const types = Object.fromEntries(NETWORK_METRIC_KEYS.map((key) => [METRICS[key].name, METRICS[key].type]));
    expect(types).toEqual({
      forward_count: 'counter',
      forward_bytes: 'counter',
      drop_count: 'counter',
      drop_bytes: 'counter',
      tcp_state: 'gauge',
      tcp_connection_remote: 'gauge',
      tcp_connection_stats: 'counter',
      tcp_flag_counters: 'counter',
      ip_connection_stats: 'counter',
      udp_connection_stats: 'counter',
      udp_active_sockets: 'gauge',
      interface_stats: 'counter',
    });
  });

  it('uses only valid, unique snake_case names and never the reserved node labels', () => {
    const names = METRIC_KEYS.map((key) => METRICS[key].name);
    expect(new Set(names).size).toBe(names.length);
    for (const key of METRIC_KEYS) {
      const m: MetricDefinition = METRICS[key];
      expect(m.name).toMatch(/^[a-z][a-z0-9_]*$/);
      // A gauge never reads as a counter; counters' names are checked by promtool (deploy's metric-names.test.ts).
      if (m.type === 'gauge') expect(m.name).not.toMatch(/_total$/);
      for (const label of m.labels) {
        expect(label).toMatch(/^[a-z][a-z0-9_]*$/);
        expect([LABEL.nodeName, LABEL.cluster]).not.toContain(label);
      }
      expect(m.platforms.length).toBeGreaterThan(0);
      for (const platform of m.platforms) expect(m.origin[platform]).toBeTruthy();
    }
  });

  it('applies the Retina prefix', () => {
    expect(metricName(METRICS.dropCount, RETINA_METRIC_PREFIX)).toBe('networkobservability_drop_count');
    expect(metricName(METRICS.dropCount)).toBe('kappie_drop_count');
  });
});
