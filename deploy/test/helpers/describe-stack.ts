/**
 * The Jest side of the Prometheus stack (prometheus-stack.ts stays free of Jest): a suite that needs the stack runs
 * where it can, and says once why it is skipped where it cannot.
 */
import { prometheusStackUnavailable } from './prometheus-stack';

/**
 * `describe` when `unavailable` is undefined; otherwise `describe.skip`, after a warning that names `suite` and
 * gives the reason. `unavailable` defaults to why the Prometheus stack cannot run here; a suite that needs more
 * (a kernel, a tool) passes its own reason.
 */
export function describeWithStack(
  suite: string,
  unavailable: string | undefined = prometheusStackUnavailable(),
): jest.Describe {
  if (unavailable === undefined) return describe;
  // eslint-disable-next-line no-console -- says once why the suite is skipped
  console.warn(`skipping the ${suite}: ${unavailable}`);
  return describe.skip;
}
