/**
 * The policy for signals that arrive while the collector stops (the real signals and cleanup are exercised in
 * test/kernel/shutdown.kernel.test.ts): the first stops, the next is ignored (one Ctrl-C under npm start arrives twice),
 * the one after exits at once.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import pino from 'pino';
import {
  interruptedExitCode,
  listenForInterruption,
  onTerminatingSignals,
  TERMINATING_SIGNALS,
  type SignalTarget,
} from '../../src/signals';

/** A process stand-in that records exit codes; signals are emitted on it by the test. */
function signalTarget(): SignalTarget & { emitter: EventEmitter; exits: number[] } {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  return {
    emitter,
    exits,
    on: (signal, listener) => emitter.on(signal, listener),
    exit: (code) => exits.push(code),
  };
}

function recordingLogger(): { log: pino.Logger; messages: () => string[] } {
  const lines: string[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  return { log, messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg) };
}

describe('onTerminatingSignals', () => {
  it('stops on the first signal, ignores the second with a warning, and exits with 1 on the third', async () => {
    const target = signalTarget();
    const { log, messages } = recordingLogger();
    const stops: string[] = [];
    onTerminatingSignals(log, async (why) => void stops.push(why), target);

    target.emitter.emit('SIGINT');
    target.emitter.emit('SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    expect(stops).toEqual(['SIGINT']);
    expect(target.exits).toEqual([]);
    expect(messages()).toEqual([
      expect.stringMatching(/^SIGINT while stopping: ignored, the cleanup goes on .*SIGKILL/),
    ]);

    target.emitter.emit('SIGTERM');
    await new Promise((resolve) => setImmediate(resolve));
    expect(stops).toEqual(['SIGINT']);
    expect(target.exits).toEqual([1]);
    expect(messages()[1]).toMatch(/^SIGTERM while stopping, after one ignored: exiting without finishing the cleanup/);
  });

  it.each(TERMINATING_SIGNALS)('stops on %s', (signal) => {
    const target = signalTarget();
    const stops: string[] = [];
    onTerminatingSignals(recordingLogger().log, async (why) => void stops.push(why), target);
    target.emitter.emit(signal);
    expect(stops).toEqual([signal]);
  });
});

describe('listenForInterruption (a command that stops itself: kappie snapshot)', () => {
  it('records the first signal and resolves with it; the ones after it follow the same policy', async () => {
    const target = signalTarget();
    const interruption = listenForInterruption(recordingLogger().log, target);
    expect(interruption.signal()).toBeUndefined();
    target.emitter.emit('SIGTERM');
    await expect(interruption.received).resolves.toBe('SIGTERM');
    expect(interruption.signal()).toBe('SIGTERM');
    target.emitter.emit('SIGINT');
    expect(interruption.signal()).toBe('SIGTERM');
    expect(target.exits).toEqual([]);
    target.emitter.emit('SIGINT');
    expect(target.exits).toEqual([1]);
  });

  it("exits with 128 + the signal's number, as a shell reports a command the signal ended", () => {
    expect(interruptedExitCode('SIGINT')).toBe(130);
    expect(interruptedExitCode('SIGTERM')).toBe(143);
    expect(interruptedExitCode('SIGHUP')).toBe(129);
    expect(interruptedExitCode('SIGQUIT')).toBe(131);
  });
});
