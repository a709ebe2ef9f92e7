/**
 * The drop reason class table covers every reason the collector can export (kernel tracepoint names from recorded
 * format files, the counter and 5.15-derived reasons, the tally overflow, the Hyper-V and VFP names the Windows
 * parsers produce from recorded output), gives each one class and a one-line meaning, and classifies anything else
 * as `unclassified`.
 */
import {
  DROP_CLASSES,
  DROP_CLASS_NAMES,
  DROP_REASON_CLASSES,
  LOSS_CLASSES,
  UNKNOWN_REASON_CLASS,
  dropReasonClass,
  reasonRegex,
  reasonsOfClasses,
} from '../../src/drop-reason-classes';
import { COUNTER_REASONS } from '../../src/sources/linux/drops/counters';
import { DERIVED_REASON_NAMES } from '../../src/sources/linux/drops/locations';
import { OVERFLOW_REASON } from '../../src/sources/linux/drops/tally';
import { parseEventFormat } from '../../src/kernel/tracefs/format';
import { parseHyperVDropReasons } from '../../src/sources/windows/hyperv-drop-reasons';
import { parseVfpPortCounters } from '../../src/sources/windows/vfp-port-counters';
import { fixture } from '../helpers/fixtures';

/** Tracepoint symbols that are not drops (the collector filters them out) or not reasons at all. */
const NOT_DROPS = new Set([
  'SKB_NOT_DROPPED_YET',
  'NOT_DROPPED_YET',
  'SKB_CONSUMED',
  'CONSUMED',
  'MAX',
  'SKB_DROP_REASON_MAX',
]);

function kernelReasons(file: string): string[] {
  const format = parseEventFormat(fixture(`linux/tracefs/${file}`), file);
  return [...(format.symbols.get('reason')?.values() ?? [])].filter((name) => !NOT_DROPS.has(name));
}

const listed = new Set(DROP_REASON_CLASSES.map((entry) => entry.reason));

describe('drop reason classes', () => {
  it('lists each reason once, with a known class and a one-line meaning', () => {
    expect(listed.size).toBe(DROP_REASON_CLASSES.length);
    for (const entry of DROP_REASON_CLASSES) {
      expect(DROP_CLASS_NAMES).toContain(entry.class);
      expect(entry.meaning).toMatch(/^\S.{5,140}\.$/);
      expect(entry.meaning).not.toContain('\n');
    }
  });

  it('covers every reason the 6.18 kfree_skb tracepoint format names', () => {
    const reasons = kernelReasons('kfree_skb.format.6.18');
    expect(reasons.length).toBeGreaterThan(100);
    expect(reasons.filter((reason) => !listed.has(reason))).toEqual([]);
  });

  it('covers the counter reasons, the 5.15 derived reasons and the tally overflow', () => {
    const collectorReasons = [...COUNTER_REASONS.map((row) => row.reason), ...DERIVED_REASON_NAMES, OVERFLOW_REASON];
    expect(collectorReasons.filter((reason) => !listed.has(reason))).toEqual([]);
  });

  it('covers every Hyper-V drop reason and the VFP reasons the Windows parsers produce', () => {
    const hyperv = parseHyperVDropReasons(fixture('windows/hyperv-drop-reasons.reconstructed.json'));
    const vfp = parseVfpPortCounters(fixture('windows/vfpctrl-get-port-counter.reconstructed.txt'));
    const reasons = new Set([
      ...hyperv.map((drop) => drop.reason),
      ...vfp.flatMap((counters) => Object.keys(counters.drops)),
    ]);
    expect(reasons.size).toBeGreaterThan(30);
    expect([...reasons].filter((reason) => !listed.has(reason))).toEqual([]);
  });

  it('puts the quiet-host noise of the issue outside the loss classes, and real loss inside', () => {
    for (const reason of ['QUEUE_PURGE', 'NO_SOCKET', 'NOT_SPECIFIED', 'TCP_OLD_DATA', 'TCP_CLOSE']) {
      expect([reason, LOSS_CLASSES.includes(dropReasonClass(reason))]).toEqual([reason, false]);
    }
    for (const reason of [
      'NETFILTER_DROP',
      'TCP_LISTEN_OVERFLOW',
      'QDISC_DROP',
      'NEIGH_FAILED',
      'TCP_CSUM',
      'VfpAcl',
    ]) {
      expect([reason, LOSS_CLASSES.includes(dropReasonClass(reason))]).toEqual([reason, true]);
    }
  });

  it('classifies a reason it does not know, a bare kernel number and a case variant as unclassified', () => {
    expect(UNKNOWN_REASON_CLASS).toBe('unclassified');
    for (const reason of ['SOME_FUTURE_REASON', '0x10003', 'netfilter_drop', '']) {
      expect(dropReasonClass(reason)).toBe('unclassified');
    }
    expect(DROP_CLASSES.unclassified.lost).toBe(false);
  });

  it('renders a PromQL regex that matches exactly the reasons of the classes (Prometheus anchors it)', () => {
    const regex = new RegExp(`^(?:${reasonRegex(LOSS_CLASSES)})$`);
    for (const entry of DROP_REASON_CLASSES) {
      expect([entry.reason, regex.test(entry.reason)]).toEqual([entry.reason, LOSS_CLASSES.includes(entry.class)]);
    }
    expect(regex.test('SOME_FUTURE_REASON')).toBe(false);
    expect(reasonRegex(LOSS_CLASSES)).toMatch(/^[A-Za-z0-9_|]+$/);
    expect(reasonsOfClasses(['housekeeping'])).toContain('QUEUE_PURGE');
  });
});
