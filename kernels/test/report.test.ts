import { formatEvent, parseConsole } from '../src/report';

describe('console report', () => {
  it('reads the report lines among kernel messages and carriage returns', () => {
    const transcript = [
      '[    2.4] random: crng init done',
      `${formatEvent({ event: 'test', name: 'a', ok: true, ms: 12 })}\r`,
      `[   3.1] veth: something${formatEvent({ event: 'test', name: 'b', ok: false, ms: 5, error: 'x != y' })}`,
      formatEvent({
        event: 'facts',
        facts: { release: '6.1.0-57-cloud-amd64', dropsPath: 'hist', dropBytes: true, reasons: 66 },
      }),
      formatEvent({ event: 'done', passed: 1, failed: 1 }),
      'reboot: Restarting system',
    ].join('\n');
    const report = parseConsole(transcript);
    expect(report.tests.map((t) => [t.name, t.ok])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(report.tests[1]!.error).toBe('x != y');
    expect(report.facts?.dropsPath).toBe('hist');
    expect(report.done).toEqual({ event: 'done', passed: 1, failed: 1 });
    expect(report.unreadable).toEqual([]);
  });

  it('keeps a report line a kernel message cut into as unreadable, not as a result', () => {
    const line = formatEvent({ event: 'test', name: 'a', ok: true, ms: 1 });
    const cut = `${line.slice(0, 30)}[ 4.2] oops${line.slice(30)}`;
    const report = parseConsole(cut);
    expect(report.tests).toEqual([]);
    expect(report.unreadable).toEqual([cut]);
  });

  it('has no done event when the guest stopped early', () => {
    expect(parseConsole(formatEvent({ event: 'test', name: 'a', ok: true, ms: 1 })).done).toBeUndefined();
  });
});
