import { changedControls, streamModeControls } from '../../src/sources/linux/drops/instance-state';

describe("stream mode's instance controls", () => {
  const controls = streamModeControls('instances/kt', 'protocol != 0');
  const files = (enable: string, filter: string, tracingOn: string): Record<string, string> => ({
    'instances/kt/events/skb/kfree_skb/enable': enable,
    'instances/kt/events/skb/kfree_skb/filter': filter,
    'instances/kt/tracing_on': tracingOn,
  });

  it('finds nothing changed as stream mode left them (1* is on, held in soft mode by a trigger)', () => {
    for (const enable of ['1\n', '1*\n']) {
      const state = files(enable, 'protocol != 0\n', '1\n');
      expect(changedControls(controls, (file) => state[file]!)).toEqual([]);
    }
  });

  it('names each file switched off or cleared, filter first (restored before the switch)', () => {
    const state = files('0\n', 'none\n', '0\n');
    expect(
      changedControls(controls, (file) => state[file]!).map(({ control, found }) => [control.file, found]),
    ).toEqual([
      ['instances/kt/events/skb/kfree_skb/filter', 'none'],
      ['instances/kt/events/skb/kfree_skb/enable', '0'],
      ['instances/kt/tracing_on', '0'],
    ]);
  });
});
