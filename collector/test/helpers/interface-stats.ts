/** The interface statistics of a gathering, for tests that compare them with the kernel's. */
import { LABEL } from '../../src/catalog';
import type { Gathering } from '../../src/gatherer';

/** kappie_interface_stats of `gathering`: interface label -> statistic name -> value. */
export function interfaceStatsByName(gathering: Gathering): Map<string, Map<string, number>> {
  const result = new Map<string, Map<string, number>>();
  for (const sample of gathering.samples.interfaceStats ?? []) {
    const name = sample.labels[LABEL.interfaceName]!;
    const stats = result.get(name) ?? new Map<string, number>();
    stats.set(sample.labels[LABEL.statisticName]!, sample.value);
    result.set(name, stats);
  }
  return result;
}
