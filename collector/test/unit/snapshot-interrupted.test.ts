/**
 * The one line an interrupted `kappie snapshot` prints: the drops so far name the largest reasons and say what the
 * others add up to, so that the parts always sum to the total. (The real interruption, with a signal and tracefs, is
 * in test/kernel/snapshot.kernel.test.ts.)
 */
import type { Gathering } from '../../src/gatherer';
import { dropsSoFar } from '../../src/snapshot-command';

function withDrops(...rows: [reason: string, direction: string, value: number][]): Gathering {
  return {
    at: 0,
    samples: { dropCount: rows.map(([reason, direction, value]) => ({ labels: { reason, direction }, value })) },
    sources: [],
  };
}

/** The numbers of the parenthesis after the reason names ("X ingress 5", "2 more reasons: 32"). */
function partsOf(line: string): number[] {
  const inside = /\((.*)\)$/.exec(line)?.[1] ?? '';
  return inside.split(', ').map((part) => Number(/(\d+)$/.exec(part)?.[1]));
}

describe('dropsSoFar', () => {
  it('names the three largest reasons and sums the rest, so the parts add up to the total', () => {
    const line = dropsSoFar(
      withDrops(
        ['NOT_SPECIFIED', 'unknown', 54],
        ['NO_SOCKET', 'ingress', 47],
        ['UNHANDLED_PROTO', 'ingress', 27],
        ['TCP_LISTEN_OVERFLOW', 'ingress', 20],
        ['NETFILTER_DROP', 'egress', 12],
        ['OTHER', 'egress', 0],
      ),
    );
    expect(line).toBe(
      '160 drops counted so far (NOT_SPECIFIED unknown 54, NO_SOCKET ingress 47, UNHANDLED_PROTO ingress 27, ' +
        '2 more reasons: 32)',
    );
    expect(partsOf(line).reduce((a, b) => a + b, 0)).toBe(160);
  });

  it('one reason left out is "1 more reason"; three or fewer are all named', () => {
    expect(
      dropsSoFar(withDrops(['A', 'ingress', 4], ['B', 'ingress', 3], ['C', 'egress', 2], ['D', 'egress', 1])),
    ).toBe('10 drops counted so far (A ingress 4, B ingress 3, C egress 2, 1 more reason: 1)');
    expect(dropsSoFar(withDrops(['A', 'ingress', 4], ['B', 'egress', 0]))).toBe('4 drops counted so far (A ingress 4)');
    expect(dropsSoFar(withDrops())).toBe('0 drops counted so far');
  });
});
