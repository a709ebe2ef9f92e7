/**
 * Kernel stacks after netfilter drops, for their direction: nf_hook_slow serves every hook, only its caller tells
 * ingress from egress. A `stacktrace` trigger on kfree_skb records one after each netfilter drop (stream mode).
 *
 * A stack costs the kernel ~25 symbol lookups when read and us ~25 lines to parse: in a netfilter drop storm (20k/s)
 * they overran the ring buffer (bench/RESULTS.md). So above STACK_BUDGET_PER_SECOND netfilter drops per second the
 * trigger is removed (drops still counted, direction unknown), and it comes back after STACK_CALM_MS below half of
 * that. Switching only at storm edges keeps the trigger stable otherwise (a removal waits for an RCU grace period:
 * re-adding it every poll left windows without stacks).
 */
import type { Logger } from 'pino';
import type { KernelSymbols } from '../../../kernel/kallsyms';
import type { EventFormat } from '../../../kernel/tracefs/format';
import { reasonNames } from './kfree-skb';

/** Netfilter drops per second above which their stacks are switched off. */
export const STACK_BUDGET_PER_SECOND = 2000;
/** How long netfilter drops must stay below half the budget before stacks come back. */
export const STACK_CALM_MS = 5000;

/**
 * The condition selecting netfilter drops, for the `stacktrace` trigger: by reason where the kernel has it, else by
 * the address range of nf_hook_slow (5.15, from kallsyms). Undefined when neither is possible.
 */
export function netfilterCondition(format: EventFormat, symbols: KernelSymbols | undefined): string | undefined {
  const reasons = reasonNames(format);
  if (reasons) {
    const value = [...reasons].find(([, name]) => name === 'NETFILTER_DROP')?.[0];
    return value === undefined ? undefined : `reason == ${value}`;
  }
  const range = symbols?.rangeOf('nf_hook_slow');
  if (!range) return undefined;
  return `location >= 0x${range[0].toString(16)} && location < 0x${range[1].toString(16)}`;
}

/** The line appended to the event's `trigger` file to add (`on`) or remove the stacks. */
export function stackTrigger(condition: string, on: boolean): string {
  return `${on ? '' : '!'}stacktrace if ${condition}`;
}

export interface StackGovernor {
  /** Whether stacks follow netfilter drops now. */
  readonly on: boolean;
  /**
   * Called after each poll with the netfilter drops read so far (a running total) and the time (ms); switches the
   * stacks off in a storm and back on after a calm. Returns whether they are on.
   */
  adapt(netfilterEvents: number, now: number): boolean;
}

/**
 * Decides when stacks are on, starting on at `startedAt`. `switchStacks(on)` changes the kernel trigger and says
 * whether the kernel accepted it; `minIntervalMs` is the poll period (a rate over a shorter time is not trusted).
 */
export function createStackGovernor(
  switchStacks: (on: boolean) => boolean,
  minIntervalMs: number,
  startedAt: number,
  log: Logger,
): StackGovernor {
  let on = true;
  let lastNetfilterEvents = 0;
  let lastAt = startedAt;
  let calmSince: number | undefined;
  return {
    get on() {
      return on;
    },
    adapt(netfilterEvents, now) {
      const seconds = Math.max((now - lastAt) / 1000, minIntervalMs / 1000);
      const perSecond = (netfilterEvents - lastNetfilterEvents) / seconds;
      lastNetfilterEvents = netfilterEvents;
      lastAt = now;
      if (on && perSecond > STACK_BUDGET_PER_SECOND) {
        on = !switchStacks(false);
        calmSince = undefined;
        log.info({ perSecond: Math.round(perSecond) }, 'netfilter drop storm: direction stacks off until it calms');
      } else if (!on) {
        // Back on only after a calm of STACK_CALM_MS: a starved event loop can see a quiet poll in the middle of a storm.
        if (perSecond >= STACK_BUDGET_PER_SECOND / 2) calmSince = undefined;
        else calmSince ??= now;
        if (calmSince !== undefined && now - calmSince >= STACK_CALM_MS) {
          on = switchStacks(true);
          if (on) log.info('netfilter drop storm over: direction stacks on again');
        }
      }
      return on;
    },
  };
}
