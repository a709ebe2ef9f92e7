/**
 * A test runner small enough to be cheap under emulation (Jest would take minutes to start there): tests run in
 * order, each result goes to the console as a report line (report.ts) the host reads, then a final count.
 */
import { formatEvent, type GuestEvent, type KernelFacts } from '../report';

type Test = { readonly name: string; readonly body: () => Promise<void> | void };

/** Longest a test may take under emulation before it is failed, so one stuck test cannot eat the VM's deadline. */
export const TEST_TIMEOUT_MS = 120_000;

function withTimeout(body: () => Promise<void> | void, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`"${name}" took longer than ${TEST_TIMEOUT_MS / 1000} s`)),
      TEST_TIMEOUT_MS,
    );
  });
  return Promise.race([Promise.resolve().then(body), deadline]).finally(() => clearTimeout(timer));
}

export class GuestRunner {
  private readonly tests: Test[] = [];

  test(name: string, body: () => Promise<void> | void): void {
    this.tests.push({ name, body });
  }

  private emit(event: GuestEvent): void {
    process.stdout.write(`${formatEvent(event)}\n`);
  }

  /** Runs every registered test in order; a failing test does not stop the ones after it. */
  async run(): Promise<{ passed: number; failed: number }> {
    let passed = 0;
    let failed = 0;
    for (const { name, body } of this.tests) {
      const started = Date.now();
      try {
        await withTimeout(body, name);
        passed += 1;
        this.emit({ event: 'test', name, ok: true, ms: Date.now() - started });
      } catch (error) {
        failed += 1;
        const message = error instanceof Error ? error.message || String(error) : String(error);
        this.emit({ event: 'test', name, ok: false, ms: Date.now() - started, error: message.slice(0, 2000) });
      }
    }
    return { passed, failed };
  }

  /** Sends a file to the host (only asked for with --record). */
  file(name: string, bytes: Buffer): void {
    this.emit({ event: 'file', name, base64: bytes.toString('base64') });
  }

  facts(facts: KernelFacts): void {
    this.emit({ event: 'facts', facts });
  }

  done(counts: { passed: number; failed: number }): void {
    this.emit({ event: 'done', ...counts });
  }
}
